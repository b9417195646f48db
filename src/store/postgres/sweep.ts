import type pg from 'pg';
import {
  type DeleteBatch,
  failureCodes,
  type SweepOptions,
  type SweepResult,
  sweepInBatches,
} from '../delete-batch.js';
import { deleteBatch } from './erase.js';
import { classify } from './errors.js';

/**
 * Retention sweeps on PostgreSQL. Several replicas may share the database; an advisory lock
 * held by the sweeping connection (not by a transaction) lets one of them sweep at a time, and the others skip their turn (a lock that
 * dies with its connection, so a replica that crashes mid-sweep never blocks the next one).
 */

/** The advisory lock key of retention sweeps ("sweep" in ASCII); any constant all replicas share. */
export const SWEEP_LOCK = 0x7377656570n;

const DELETE_STATUSES = `
  DELETE FROM statuses
  WHERE (message_id, status) IN (
    SELECT message_id, status FROM statuses WHERE received_at < $1 LIMIT $2)
  RETURNING status, errors`;

/** Subtract per-key counts in key order (the order inserts lock them), then drop zeros. */
const SUBTRACT_STATUSES = `
  INSERT INTO status_counts AS counted (status, statuses)
  SELECT status, -n FROM unnest($1::text[], $2::bigint[]) AS d (status, n) ORDER BY status
  ON CONFLICT (status) DO UPDATE SET statuses = counted.statuses + excluded.statuses`;
const DROP_STATUSES = 'DELETE FROM status_counts WHERE status = ANY($1::text[]) AND statuses <= 0';
const SUBTRACT_FAILURES = `
  INSERT INTO failure_counts AS counted (code, failures)
  SELECT code, -n FROM unnest($1::bigint[], $2::bigint[]) AS d (code, n) ORDER BY code
  ON CONFLICT (code) DO UPDATE SET failures = counted.failures + excluded.failures`;
const DROP_FAILURES = 'DELETE FROM failure_counts WHERE code = ANY($1::bigint[]) AND failures <= 0';

/** Deletes up to `limit` statuses received before `before` in one transaction on `client`. */
async function deleteStatuses(client: pg.PoolClient, before: string, limit: number) {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ status: string; errors: string }>(DELETE_STATUSES, [
      before,
      limit,
    ]);
    const statuses = new Map<string, number>();
    const failures = new Map<number, number>();
    for (const { status, errors } of rows) {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      for (const code of failureCodes(status, errors)) {
        failures.set(code, (failures.get(code) ?? 0) + 1);
      }
    }
    if (statuses.size > 0) {
      await client.query(SUBTRACT_STATUSES, [[...statuses.keys()], [...statuses.values()]]);
      await client.query(DROP_STATUSES, [[...statuses.keys()]]);
    }
    if (failures.size > 0) {
      await client.query(SUBTRACT_FAILURES, [[...failures.keys()], [...failures.values()]]);
      await client.query(DROP_FAILURES, [[...failures.keys()]]);
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * One sweep, on one connection that holds the advisory lock throughout; null when another
 * process holds it (sweeping now).
 */
export async function sweep(
  pool: pg.Pool,
  before: string,
  options?: SweepOptions,
): Promise<SweepResult | null> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw classify(error);
  }
  let broken = false;
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1::bigint) AS locked',
      [String(SWEEP_LOCK)],
    );
    if (rows[0]?.locked !== true) return null;
    try {
      const run = (batch: DeleteBatch) =>
        batch.target.kind === 'statuses-received-before'
          ? deleteStatuses(client, batch.target.before, batch.limit)
          : deleteBatch(client, batch);
      return await sweepInBatches(run, before, options);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [String(SWEEP_LOCK)]);
    }
  } catch (error) {
    broken = true;
    throw classify(error);
  } finally {
    // a connection that failed mid-sweep is closed, which also frees the lock if still held
    client.release(broken);
  }
}
