import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { readMigrations } from '../../src/store/migrations.js';
import { sqliteAt, storeKinds, tempDir, testApp } from '../helpers.js';

for (const kind of storeKinds()) {
  describe(`health (${kind.name})`, { skip: kind.skip }, () => {
    it('live and ready answer 200 {"status": "ok"} when all is well', async () => {
      const t = await testApp({ kind });
      try {
        for (const url of ['/health/live', '/health/ready']) {
          const response = await t.app.inject(url);
          assert.equal(response.statusCode, 200, url);
          assert.deepEqual(response.json(), { status: 'ok' });
        }
      } finally {
        await t.close();
      }
    });

    it('ready?verbose=true adds the checks and the configured sources, same status', async () => {
      const t = await testApp({ kind });
      const unset = await testApp({ kind, secret: null });
      try {
        const ready = await t.app.inject('/health/ready?verbose=true');
        assert.equal(ready.statusCode, 200);
        assert.equal(
          ready.body,
          '{"status":"ok","checks":{"database":"ok","schema":"ok","secret":"ok"},' +
            '"sources":{"webhook":true,"standard_webhooks":false,"whatsapp":false}}',
        );
        assert.equal((await t.app.inject('/health/ready')).body, '{"status":"ok"}');
        const unready = await unset.app.inject('/health/ready?verbose=true');
        assert.equal(unready.statusCode, 503);
        assert.deepEqual(unready.json().sources, {
          webhook: false,
          standard_webhooks: false,
          whatsapp: false,
        });
        const wrong = await t.app.inject('/health/ready?verbose=yes');
        assert.equal(wrong.statusCode, 422);
      } finally {
        await Promise.all([t.close(), unset.close()]);
      }
    });

    it('ready is 503 naming the secret when none is configured; live stays 200', async () => {
      const t = await testApp({ kind, secret: null });
      try {
        const ready = await t.app.inject('/health/ready');
        assert.equal(ready.statusCode, 503);
        assert.deepEqual(ready.json(), {
          status: 'unavailable',
          checks: {
            database: 'ok',
            schema: 'ok',
            secret: 'neither WEBHOOK_SECRET nor STANDARD_WEBHOOKS_SECRET is set',
          },
          sources: { webhook: false, standard_webhooks: false, whatsapp: false },
        });
        assert.equal((await t.app.inject('/health/live')).statusCode, 200);
      } finally {
        await t.close();
      }
    });
  });
}

describe('health (sqlite faults)', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('ready is 503 naming the schema when a migration is missing', async () => {
    const path = join(dir.path, 'unmigrated.db');
    const t = await testApp({ kind: sqliteAt(path) });
    try {
      const other = new Database(path);
      other.prepare('DELETE FROM schema_migrations').run();
      other.close();
      const ready = await t.app.inject('/health/ready');
      assert.equal(ready.statusCode, 503);
      assert.deepEqual(ready.json().checks, {
        database: 'ok',
        schema: `at version 0 of ${readMigrations('sqlite').at(-1)?.version}`,
        secret: 'ok',
      });
    } finally {
      await t.close();
    }
  });

  it('ready is 503 naming the database when it does not answer; live stays 200', async () => {
    const t = await testApp({ kind: sqliteAt(join(dir.path, 'closed.db')) });
    try {
      await t.store.close();
      const ready = await t.app.inject('/health/ready');
      assert.equal(ready.statusCode, 503);
      assert.match(ready.json().checks.database, /^no answer: /);
      assert.equal((await t.app.inject('/health/live')).statusCode, 200);
    } finally {
      await t.close();
    }
  });
});
