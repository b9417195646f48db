// Every assert.ok in these tests carries a message: without one, a failing assert.ok makes
// Node re-parse the TypeScript source to describe the failure, which takes minutes.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import type { LogLevel } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { sign } from '../src/signature.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';

export const SECRET = 'test-secret';

/** A store implementation under test: how to make a fresh, empty one. */
export interface StoreKind {
  name: string;
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

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
      const store = new SqliteStore({ path: path ?? join(dir?.path ?? '', 'app.db') });
      return {
        store,
        async cleanup() {
          await store.close();
          dir?.remove();
        },
      };
    },
  };
}

export const sqliteKind: StoreKind = sqliteAt();

/** Every store the HTTP and contract suites run against. */
export function storeKinds(): StoreKind[] {
  return [sqliteKind];
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
  logLevel?: LogLevel;
  maxBodyBytes?: number;
  /** defaults to a fresh SQLite store */
  kind?: StoreKind;
}

export async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  const { store, cleanup } = await (options.kind ?? sqliteKind).open();
  const { logs, stream } = captureLogs();
  const app = await buildApp({
    store,
    logger: createLogger(options.logLevel ?? 'debug', stream),
    webhookSecret: options.secret === undefined ? SECRET : options.secret,
    maxBodyBytes: options.maxBodyBytes ?? 65536,
    metrics: createMetrics({ processMetrics: false }),
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
