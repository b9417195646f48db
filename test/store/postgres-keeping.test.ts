import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import pg from 'pg';
import { openStore } from '../../src/store/open.js';
import { SWEEP_LOCK } from '../../src/store/postgres/sweep.js';
import { dropTestDatabasesAfterwards, freshSchema, POSTGRES_SKIP } from '../helpers.js';

dropTestDatabasesAfterwards();

describe('PostgreSQL retention sweeps', { skip: POSTGRES_SKIP }, () => {
  it('sweep on one replica at a time: while another holds the lock, a sweep does nothing', async () => {
    const { url } = await freshSchema();
    const store = await openStore({ kind: 'postgres', url, poolSize: 3, timeoutMs: 5000 });
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      for (let i = 0; i < 5; i++) {
        await store.insert(
          { message_id: `m${i}`, from: '+111', to: '+222', ts: '2025-01-15T10:00:00Z' },
          { received_at: '2025-01-15T10:00:00Z' },
        );
      }
      await other.query('SELECT pg_advisory_lock($1::bigint)', [String(SWEEP_LOCK)]);
      assert.equal(await store.sweep('2030-01-01T00:00:00Z'), null, 'skipped: another sweeps');
      assert.equal((await store.list({}, { limit: 10, offset: 0 })).total, 5);
      await other.query('SELECT pg_advisory_unlock($1::bigint)', [String(SWEEP_LOCK)]);
      assert.deepEqual(await store.sweep('2030-01-01T00:00:00Z'), { messages: 5, statuses: 0 });
      assert.equal((await store.list({}, { limit: 10, offset: 0 })).total, 0);
      // the lock was let go: another connection can take it at once
      const { rows } = await other.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
        String(SWEEP_LOCK),
      ]);
      assert.equal(rows[0].ok, true);
    } finally {
      await other.end();
      await store.close();
    }
  });
});

describe('PostgreSQL erasure racing a redelivery', { skip: POSTGRES_SKIP }, () => {
  it('a redelivery that waits for an erasure in progress stores nothing once it commits', async () => {
    const { url } = await freshSchema();
    const store = await openStore({ kind: 'postgres', url, poolSize: 3, timeoutMs: 5000 });
    const eraser = new pg.Client({ connectionString: url });
    await eraser.connect();
    const m = { message_id: 'racy', from: '+111', to: '+222', ts: '2025-01-15T10:00:00Z' };
    try {
      assert.equal(await store.insert(m), 'created');
      // an erasure caught between its delete and its commit, as erase.ts runs it
      await eraser.query('BEGIN');
      await eraser.query('LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE');
      await eraser.query("DELETE FROM messages WHERE message_id = 'racy'");
      await eraser.query("INSERT INTO erased_messages (message_id) VALUES ('racy')");
      const redelivery = store.insert(m);
      await setTimeout(300); // the redelivery is waiting now
      await eraser.query('COMMIT');
      assert.equal(await redelivery, 'duplicate', 'answered as a duplicate');
      const { rows } = await eraser.query('SELECT count(*)::int AS n FROM messages');
      assert.equal(rows[0].n, 0, 'not stored again');
    } finally {
      await eraser.end();
      await store.close();
    }
  });
});
