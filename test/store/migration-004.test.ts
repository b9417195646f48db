import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { readMigrations } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open.js';
import { migrate as migratePostgres } from '../../src/store/postgres/migrate.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import {
  dropTestDatabasesAfterwards,
  freshSchema,
  POSTGRES_SKIP,
  tempDir,
  withClient,
} from '../helpers.js';

/**
 * Migration 004 on a database that already holds messages: they become POST /webhook messages
 * received at their ts (to the second), with no payload, and the new counts start at zero.
 */

dropTestDatabasesAfterwards();

const EXPECTED = {
  message_id: 'old',
  from: '+919876543210',
  to: '+14155550100',
  ts: '2025-01-15T10:00:00.123Z',
  text: 'Hello',
  source: 'webhook',
  type: null,
  contact_name: null,
  reply_to: null,
  received_at: '2025-01-15T10:00:00Z',
  payload: null,
};

const INSERT_OLD = `INSERT INTO messages (message_id, sender, recipient, ts, ts_us, text, text_folded)
  VALUES ('old', '+919876543210', '+14155550100', '2025-01-15T10:00:00.123Z', 1736935200123000,
          'Hello', 'hello')`;

describe('migration 004 on existing messages', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('sqlite', async () => {
    const path = join(dir.path, 'old.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY,
             name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
    for (const migration of readMigrations('sqlite').slice(0, 3)) {
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, 'then')").run(
        migration.version,
        migration.name,
      );
    }
    db.exec(INSERT_OLD);
    db.exec('UPDATE message_totals SET messages = 1, senders = 1');
    db.close();
    const store = new SqliteStore({ path });
    try {
      assert.deepEqual(await store.check(), { database: 'ok', schema: 'ok' });
      assert.deepEqual(await store.get('old'), EXPECTED);
      assert.equal((await store.stats()).total_messages, 1);
      assert.deepEqual(await store.statusStats(), {
        by_status: { sent: 0, delivered: 0, read: 0, failed: 0 },
        failures: [],
      });
    } finally {
      await store.close();
    }
  });

  it('postgres', { skip: POSTGRES_SKIP }, async () => {
    const { url } = await freshSchema();
    await migratePostgres({ connectionString: url }, readMigrations('postgres').slice(0, 3));
    await withClient(url, async (client) => {
      await client.query(INSERT_OLD);
      await client.query('UPDATE message_totals SET messages = 1, senders = 1');
    });
    const store = await openStore({ kind: 'postgres', url, poolSize: 2, timeoutMs: 5000 });
    try {
      assert.deepEqual(await store.check(), { database: 'ok', schema: 'ok' });
      assert.deepEqual(await store.get('old'), EXPECTED);
      assert.equal((await store.stats()).total_messages, 1);
    } finally {
      await store.close();
    }
  });
});
