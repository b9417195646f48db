import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
