import type pg from 'pg';
import { classify, isStale } from './errors.js';

/** The client-side timeout fires this much after the server-side one, as a backstop only. */
const CLIENT_TIMEOUT_MARGIN_MS = 1000;

/**
 * A schema change may rebuild an index on a large table: migrations get at least a minute per
 * statement, however short the request timeout is.
 */
export const MIGRATION_TIMEOUT_MS = 60_000;

/**
 * Server side, a statement or a lock wait longer than `ms` is cancelled (57014, 55P03); the
 * client-side timeout is a backstop for a server that stopped answering altogether.
 */
export function timeouts(ms: number): pg.ClientConfig {
  return {
    statement_timeout: ms,
    lock_timeout: ms,
    query_timeout: ms + CLIENT_TIMEOUT_MARGIN_MS,
    // a transaction left open by a vanished client must not hold its locks for long
    idle_in_transaction_session_timeout: Math.max(ms, MIGRATION_TIMEOUT_MS),
  };
}

/**
 * Runs one statement on a pooled connection. A connection that broke while idle in the pool
 * (the server restarted, an administrator terminated it) fails on first use: that statement is
 * retried once on another connection (unless `retry` is false: the store is closing), so such
 * an event rarely costs a request an error. Every statement of the store is safe to repeat; a
 * repeated insert at worst reports 'duplicate' for a row the lost attempt committed. Failures
 * come out classified (see errors.ts).
 */
export async function queryRetrying<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  config: pg.QueryConfig,
  retry: boolean,
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(config);
  } catch (error) {
    if (!isStale(error) || !retry) throw classify(error);
    try {
      return await pool.query<R>(config);
    } catch (again) {
      throw classify(again);
    }
  }
}
