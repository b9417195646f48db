import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, parseDatabaseUrl } from '../src/config.js';
import { configError } from './helpers.js';

describe('config', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(loadConfig({}, '/srv/app'), {
      webhookSecret: null,
      previousWebhookSecret: null,
      standardWebhooksSecret: null,
      previousStandardWebhooksSecret: null,
      standardWebhooksToleranceSeconds: 300,
      readToken: null,
      adminToken: null,
      retentionDays: null,
      retentionIntervalMs: 600000,
      database: { kind: 'sqlite', path: '/srv/app/data/app.db' },
      logLevel: 'info',
      host: '0.0.0.0',
      port: 8000,
      maxBodyBytes: 65536,
      whatsapp: {
        appSecret: null,
        previousAppSecret: null,
        verifyToken: null,
        maxBodyBytes: 3145728,
      },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig(
      {
        WEBHOOK_SECRET: 's',
        WEBHOOK_SECRET_PREVIOUS: 'old',
        READ_TOKEN: 'read-token-0123456789',
        ADMIN_TOKEN: 'admin-token-0123456789',
        RETENTION_DAYS: '90',
        RETENTION_INTERVAL_S: '3600',
        DATABASE_URL: 'sqlite:////data/app.db',
        LOG_LEVEL: 'warning',
        HOST: '127.0.0.1',
        PORT: '3000',
        MAX_BODY_BYTES: '1024',
        WHATSAPP_APP_SECRET: 'app-secret',
        WHATSAPP_APP_SECRET_PREVIOUS: 'old-app-secret',
        WHATSAPP_VERIFY_TOKEN: 'verify-me',
        WHATSAPP_MAX_BODY_BYTES: '4194304',
      },
      '/srv/app',
    );
    assert.deepEqual(config, {
      webhookSecret: 's',
      previousWebhookSecret: 'old',
      standardWebhooksSecret: null,
      previousStandardWebhooksSecret: null,
      standardWebhooksToleranceSeconds: 300,
      readToken: 'read-token-0123456789',
      adminToken: 'admin-token-0123456789',
      retentionDays: 90,
      retentionIntervalMs: 3600000,
      database: { kind: 'sqlite', path: '/data/app.db' },
      logLevel: 'warn',
      host: '127.0.0.1',
      port: 3000,
      maxBodyBytes: 1024,
      whatsapp: {
        appSecret: 'app-secret',
        previousAppSecret: 'old-app-secret',
        verifyToken: 'verify-me',
        maxBodyBytes: 4194304,
      },
    });
  });

  it('refuses a previous secret without a current one, and a short read token', () => {
    assert.equal(
      configError({ WEBHOOK_SECRET_PREVIOUS: 'old' }).variable,
      'WEBHOOK_SECRET_PREVIOUS',
    );
    const short = configError({ READ_TOKEN: 'short' });
    assert.equal(short.variable, 'READ_TOKEN');
    assert.match(short.message, /at least 16 characters/);
    const empty = loadConfig({ WEBHOOK_SECRET_PREVIOUS: '', READ_TOKEN: '' }, '/x');
    assert.equal(empty.previousWebhookSecret, null);
    assert.equal(empty.readToken, null);
  });

  it('refuses a short ADMIN_TOKEN, or one with spaces, naming it', () => {
    for (const token of ['short', 'sixteen chars ok']) {
      const error = configError({ ADMIN_TOKEN: token });
      assert.equal(error.variable, 'ADMIN_TOKEN');
      assert.doesNotMatch(error.message, new RegExp(token));
    }
    assert.equal(loadConfig({ ADMIN_TOKEN: '' }, '/x').adminToken, null);
  });

  it('refuses a malformed WhatsApp body limit and a previous app secret alone', () => {
    for (const bad of ['0', '-1', '3 MiB', '1e6', '1000000000']) {
      assert.equal(
        configError({ WHATSAPP_MAX_BODY_BYTES: bad }).variable,
        'WHATSAPP_MAX_BODY_BYTES',
      );
    }
    assert.equal(
      configError({ WHATSAPP_APP_SECRET_PREVIOUS: 'old' }).variable,
      'WHATSAPP_APP_SECRET_PREVIOUS',
    );
    const empty = loadConfig(
      { WHATSAPP_APP_SECRET: '', WHATSAPP_VERIFY_TOKEN: '', WHATSAPP_MAX_BODY_BYTES: '' },
      '/x',
    );
    assert.deepEqual(empty.whatsapp, {
      appSecret: null,
      previousAppSecret: null,
      verifyToken: null,
      maxBodyBytes: 3145728,
    });
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig(
      { WEBHOOK_SECRET: '', LOG_LEVEL: '', PORT: '', DATABASE_URL: '' },
      '/x',
    );
    assert.equal(config.webhookSecret, null);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.port, 8000);
    assert.equal(config.database.kind, 'sqlite');
  });

  it('accepts log levels in any case', () => {
    for (const [given, level] of [
      ['DEBUG', 'debug'],
      ['Info', 'info'],
      ['WARN', 'warn'],
      ['error', 'error'],
    ] as const) {
      assert.equal(loadConfig({ LOG_LEVEL: given }).logLevel, level);
    }
  });

  it('names the variable that is malformed', () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '65536' }, 'PORT'],
      [{ PORT: '-1' }, 'PORT'],
      [{ PORT: '80.5' }, 'PORT'],
      [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
      [{ MAX_BODY_BYTES: '0' }, 'MAX_BODY_BYTES'],
      [{ MAX_BODY_BYTES: '64k' }, 'MAX_BODY_BYTES'],
      [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
      [{ DATABASE_URL: 'sqlite:/relative' }, 'DATABASE_URL'],
      [{ DATABASE_URL: 'sqlite:///' }, 'DATABASE_URL'],
      [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE'],
      [{ DATABASE_POOL_SIZE: '101' }, 'DATABASE_POOL_SIZE'],
      [{ DATABASE_POOL_SIZE: 'ten' }, 'DATABASE_POOL_SIZE'],
      [{ DATABASE_POOL_SIZE: '-5' }, 'DATABASE_POOL_SIZE'],
      [{ DATABASE_TIMEOUT_MS: '99' }, 'DATABASE_TIMEOUT_MS'],
      [{ DATABASE_TIMEOUT_MS: '600001' }, 'DATABASE_TIMEOUT_MS'],
      [{ DATABASE_TIMEOUT_MS: '5s' }, 'DATABASE_TIMEOUT_MS'],
      [{ DATABASE_TIMEOUT_MS: '5000.5' }, 'DATABASE_TIMEOUT_MS'],
    ];
    for (const [env, variable] of cases) {
      const error = configError(env);
      assert.equal(error.variable, variable, JSON.stringify(env));
      assert.match(error.message, new RegExp(`^${variable} `));
    }
  });

  it('parses the SQLAlchemy-style database URLs', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:///./data/app.db', '/srv'), {
      kind: 'sqlite',
      path: '/srv/data/app.db',
    });
    assert.deepEqual(parseDatabaseUrl('sqlite:///rel/app.db', '/srv'), {
      kind: 'sqlite',
      path: '/srv/rel/app.db',
    });
    assert.deepEqual(parseDatabaseUrl('sqlite:////abs/app.db', '/srv'), {
      kind: 'sqlite',
      path: '/abs/app.db',
    });
    for (const memory of ['sqlite://:memory:', 'sqlite://', 'sqlite:///:memory:']) {
      assert.deepEqual(parseDatabaseUrl(memory, '/srv'), { kind: 'sqlite', path: ':memory:' });
    }
    assert.deepEqual(parseDatabaseUrl('postgresql://u@h/db', '/srv'), {
      kind: 'postgres',
      url: 'postgresql://u@h/db',
      poolSize: 10,
      timeoutMs: 5000,
    });
  });

  it('reads the PostgreSQL pool size and timeout, with defaults 10 and 5000 ms', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/app' }).database, {
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/app',
      poolSize: 10,
      timeoutMs: 5000,
    });
    const database = loadConfig({
      DATABASE_URL: 'postgresql://db/app',
      DATABASE_POOL_SIZE: '25',
      DATABASE_TIMEOUT_MS: '1500',
    }).database;
    assert.deepEqual(database, {
      kind: 'postgres',
      url: 'postgresql://db/app',
      poolSize: 25,
      timeoutMs: 1500,
    });
    for (const [size, timeout] of [
      ['1', '100'],
      ['100', '600000'],
      ['007', '0250'],
    ]) {
      const bounds = loadConfig({
        DATABASE_URL: 'postgres://db/app',
        DATABASE_POOL_SIZE: size,
        DATABASE_TIMEOUT_MS: timeout,
      }).database;
      assert.deepEqual(bounds.kind === 'postgres' ? [bounds.poolSize, bounds.timeoutMs] : null, [
        Number(size),
        Number(timeout),
      ]);
    }
  });

  it('validates the PostgreSQL settings with SQLite too, and ignores them there', () => {
    const config = loadConfig({ DATABASE_POOL_SIZE: '3', DATABASE_TIMEOUT_MS: '' }, '/srv/app');
    assert.deepEqual(config.database, { kind: 'sqlite', path: '/srv/app/data/app.db' });
    assert.equal(configError({ DATABASE_POOL_SIZE: '1e3' }).variable, 'DATABASE_POOL_SIZE');
  });
});
