// Every assert.ok in these tests carries a message: without one, a failing assert.ok makes
// Node re-parse the TypeScript source to describe the failure, which takes minutes.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { ConfigError, type LogLevel, loadConfig, type WhatsappConfig } from '../src/config.js';
import { createMetrics } from '../src/http/metrics.js';
import { createLogger } from '../src/logger.js';
import { sign } from '../src/signature.js';
import type { StandardWebhooksOptions } from '../src/standard-webhooks.js';
import { openStore } from '../src/store/open.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { Store } from '../src/store/store.js';
import { withClient } from './harness/database.js';
import { removeFromPostgres, removeFromSqlite } from './harness/remove.js';

export { withClient };

export const SECRET = 'test-secret';

/** A store implementation under test: how to make a fresh, empty one. */
export interface StoreKind {
  name: string;
  /**
   * why this store's suites cannot run here (pass it as `describe(name, { skip }, ...)`, so that
   * they count as skipped, saying why); false when they can
   */
  skip?: string | false;
  open(): Promise<{ store: Store; cleanup(): Promise<void>; remove?: Remove }>;
}

/** Deletes messages by id from the store's database, as a deleting transaction would. */
export type Remove = (ids: string[]) => Promise<void>;

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'webhook-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A SQLite store in a fresh temporary directory, or at `path` (left in place) when given. */
export function sqliteAt(path?: string): StoreKind {
  return {
    name: 'sqlite',
    async open() {
      const dir = path === undefined ? tempDir() : null;
      const file = path ?? join(dir?.path ?? '', 'app.db');
      const store = new SqliteStore({ path: file });
      return {
        store,
        remove: async (ids) => removeFromSqlite(file, ids),
        async cleanup() {
          await store.close();
          dir?.remove();
        },
      };
    },
  };
}

export const sqliteKind: StoreKind = sqliteAt();

/**
 * PostgreSQL for tests: TEST_DATABASE_URL is an administrator's URL (for example
 * postgres://postgres@127.0.0.1:5432/postgres). When it is set, each test process creates a
 * database of its own, `webhook_test_<hex>`, opens every store in a fresh schema of that database
 * (search_path through the URL's `options`), and drops the database when its tests are done.
 * An unreachable server then fails the tests; when it is unset, the PostgreSQL tests are skipped,
 * saying why (pass POSTGRES_SKIP as the `skip` option of their describe or it).
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export function postgresConfigured(): boolean {
  return TEST_DATABASE_URL !== undefined;
}

/** The `skip` option of every PostgreSQL suite: false when TEST_DATABASE_URL is set. */
export const POSTGRES_SKIP: string | false = postgresConfigured()
  ? false
  : 'TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)';

function adminUrl(): string {
  if (TEST_DATABASE_URL === undefined) throw new Error('TEST_DATABASE_URL is not set');
  return TEST_DATABASE_URL;
}

/** `url` with another database name and, when given, a search_path of one schema. */
export function databaseUrl(url: string, database: string, schema?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (schema !== undefined) parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

const createdDatabases: string[] = [];
let dropRegistered = false;

/**
 * Drops this process's test databases once its tests are done. Called at a test file's top level
 * (storeKinds() and postgresKind() do it), where after() applies to the whole file.
 */
export function dropTestDatabasesAfterwards(): void {
  if (dropRegistered || !postgresConfigured()) return;
  dropRegistered = true;
  after(async () => {
    const names = createdDatabases.splice(0);
    if (names.length === 0) return;
    await withClient(adminUrl(), async (client) => {
      for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  });
}

/** A new empty database; returns its URL. Dropped after the file's tests (see above). */
export async function createTestDatabase(): Promise<{ name: string; url: string }> {
  const name = `webhook_test_${randomBytes(8).toString('hex')}`;
  await withClient(adminUrl(), (client) =>
    client.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`),
  );
  createdDatabases.push(name);
  return { name, url: databaseUrl(adminUrl(), name) };
}

let processDatabase: Promise<{ name: string; url: string }> | null = null;

/**
 * A new empty schema in this process's test database, and a URL whose connections use it. Stores
 * opened on different schemas never see each other's rows or migrations.
 */
export async function freshSchema(): Promise<{ database: string; schema: string; url: string }> {
  processDatabase ??= createTestDatabase();
  const database = await processDatabase.catch((error) => {
    processDatabase = null;
    throw error;
  });
  const schema = `s_${randomBytes(6).toString('hex')}`;
  await withClient(database.url, (client) => client.query(`CREATE SCHEMA ${schema}`));
  return { database: database.name, schema, url: databaseUrl(adminUrl(), database.name, schema) };
}

/**
 * A PostgreSQL store in a fresh schema, migrated and healthy. Call at a file's top level. Without
 * TEST_DATABASE_URL its `skip` says so (and open() fails).
 */
export function postgresKind(): StoreKind {
  dropTestDatabasesAfterwards();
  return {
    name: 'postgres',
    skip: POSTGRES_SKIP,
    async open() {
      const { url } = await freshSchema();
      const store = await openStore({ kind: 'postgres', url, poolSize: 5, timeoutMs: 5000 });
      const health = await store.check();
      if (health.database !== 'ok' || health.schema !== 'ok') {
        await store.close();
        throw new Error(`PostgreSQL test store is not healthy: ${JSON.stringify(health)}`);
      }
      return {
        store,
        cleanup: () => store.close(),
        remove: (ids) => removeFromPostgres(url, ids),
      };
    },
  };
}

/**
 * Every store the HTTP and contract suites run against. PostgreSQL is always listed; without
 * TEST_DATABASE_URL its `skip` makes its suites count as skipped instead of vanishing.
 */
export function storeKinds(): StoreKind[] {
  return [sqliteKind, postgresKind()];
}

/** Log lines captured as parsed JSON objects, plus the raw text to scan for leaks. */
export interface CapturedLogs {
  lines: Record<string, unknown>[];
  raw: string[];
  requests(): Record<string, unknown>[];
}

export function captureLogs(): { logs: CapturedLogs; stream: { write(line: string): void } } {
  const logs: CapturedLogs = {
    lines: [],
    raw: [],
    requests: () => logs.lines.filter((line) => line.msg === 'request'),
  };
  return {
    logs,
    stream: {
      write(line: string) {
        logs.raw.push(line);
        logs.lines.push(JSON.parse(line));
      },
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  logs: CapturedLogs;
  close(): Promise<void>;
}

export interface TestAppOptions {
  secret?: string | null;
  previousSecret?: string | null;
  /** Standard Webhooks keys and clock; none by default */
  standardWebhooks?: StandardWebhooksOptions | null;
  readToken?: string | null;
  /** ADMIN_TOKEN; none by default (erasure off) */
  adminToken?: string | null;
  logLevel?: LogLevel;
  maxBodyBytes?: number;
  /** defaults to a fresh SQLite store */
  kind?: StoreKind;
  eventsHeartbeatMs?: number;
  /** the built page to serve at / (see src/routes/page.ts) */
  pageDir?: string;
  /** the service's clock; the system clock by default */
  clock?: () => Date;
  /** /webhooks/whatsapp settings; none configured by default */
  whatsapp?: Partial<WhatsappConfig>;
}

export async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  const { store, cleanup } = await (options.kind ?? sqliteKind).open();
  const { logs, stream } = captureLogs();
  const app = await buildApp({
    store,
    logger: createLogger(options.logLevel ?? 'debug', stream),
    webhookSecret: options.secret === undefined ? SECRET : options.secret,
    previousWebhookSecret: options.previousSecret ?? null,
    standardWebhooks: options.standardWebhooks ?? null,
    readToken: options.readToken ?? null,
    adminToken: options.adminToken ?? null,
    maxBodyBytes: options.maxBodyBytes ?? 65536,
    metrics: createMetrics({ processMetrics: false }),
    ...(options.eventsHeartbeatMs === undefined
      ? {}
      : { eventsHeartbeatMs: options.eventsHeartbeatMs }),
    ...(options.pageDir === undefined ? {} : { pageDir: options.pageDir }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    whatsapp: {
      appSecret: null,
      previousAppSecret: null,
      verifyToken: null,
      maxBodyBytes: 3 * 1024 * 1024,
      ...options.whatsapp,
    },
  });
  await app.ready();
  return {
    app,
    store,
    logs,
    async close() {
      await app.close();
      await cleanup();
    },
  };
}

export interface MessageInput {
  message_id?: unknown;
  from?: unknown;
  to?: unknown;
  ts?: unknown;
  text?: unknown;
  [field: string]: unknown;
}

/** A valid message, with any field replaced or (given `undefined`) removed. */
export function message(overrides: MessageInput = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    message_id: 'm1',
    from: '+919876543210',
    to: '+14155550100',
    ts: '2025-01-15T10:00:00Z',
    text: 'Hello',
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

/** POSTs raw bytes to /webhook, signed with `secret` unless a signature header is given. */
export function postWebhook(
  app: FastifyInstance,
  body: string | Buffer | Record<string, unknown>,
  options: { secret?: string; headers?: Record<string, string> } = {},
) {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return app.inject({
    method: 'POST',
    url: '/webhook',
    payload,
    headers: {
      'content-type': 'application/json',
      'x-signature': sign(options.secret ?? SECRET, payload),
      ...options.headers,
    },
  });
}

/** Stores messages through the HTTP edge, asserting each is acknowledged. */
export async function seed(
  app: FastifyInstance,
  messages: Record<string, unknown>[],
): Promise<void> {
  for (const m of messages) {
    const response = await postWebhook(app, m);
    if (response.statusCode !== 200) {
      throw new Error(
        `seeding ${JSON.stringify(m)} failed: ${response.statusCode} ${response.body}`,
      );
    }
  }
}

/** Compares strings by Unicode code point, as the stores order message_id. */
export function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

/**
 * Runs `probe` (by default nothing) over and over, `everyMs` apart, until `done()`. Returns how
 * many runs finished before done() held, and the longest time between two finished runs (from
 * the start to the first, and from the last to the end, included): a thread that stopped to wait
 * shows it as a long pause.
 */
export async function pausesUntil(
  done: () => boolean,
  probe: () => Promise<void> = async () => undefined,
  everyMs = 50,
): Promise<{ runs: number; longestPauseMs: number }> {
  let last = performance.now();
  let longestPauseMs = 0;
  let runs = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    if (done()) break;
    await probe();
    const now = performance.now();
    longestPauseMs = Math.max(longestPauseMs, now - last);
    last = now;
    if (done()) break;
    runs++;
  }
  longestPauseMs = Math.max(longestPauseMs, performance.now() - last);
  return { runs, longestPauseMs };
}

/** `promise`, or a rejection saying `what` did not happen within `ms` (a bound, not a hang). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/** The ConfigError loadConfig throws for `env` (the working directory /srv/app); fails without. */
export function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/app');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}
