import pg from 'pg';
import type { Migration } from '../migrations.js';
import { BUMP_CHANGE_EPOCH_SQL } from './epoch.js';

/**
 * Any fixed number works as long as every process of this service uses the same one: it names
 * the advisory lock that serialises schema changes across replicas sharing one database.
 */
const MIGRATION_LOCK = '7263011952014';

/**
 * Applies the migrations `schema_migrations` does not list yet, all in one transaction that first
 * takes a transaction-level advisory lock. Replicas starting together against an empty database
 * queue on that lock: the first creates the schema and commits; each next one then finds every
 * version recorded and applies nothing. If a process dies half-way, PostgreSQL rolls the
 * transaction back and releases the lock, so no half-applied schema is ever visible.
 *
 * It runs on a connection of its own, outside the pool, whose `connection` settings (timeouts
 * above all) suit a schema change rather than a request. Returns the versions this call applied,
 * and how many rows' `txid` it cleared (see FOREIGN_TXIDS_SQL).
 */
export async function migrate(
  connection: pg.ClientConfig,
  migrations: Migration[],
): Promise<{ applied: number[]; foreignTxids: number }> {
  const client = new pg.Client(connection);
  // without a listener, a connection dropped between two statements would crash the process
  // instead of failing the statement in progress
  const ignore = () => undefined;
  client.on('error', ignore);
  const run = (text: string, values?: unknown[]) => client.query(text, values);
  try {
    await client.connect();
    await run('BEGIN');
    await run('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
    await run(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    integer     NOT NULL PRIMARY KEY,
         name       text        NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await run('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row: { version: number }) => row.version));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await run(migration.sql);
      await run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    const cleared = await run(FOREIGN_TXIDS_SQL);
    const foreignTxids = Number(cleared.rows[0]?.cleared ?? 0);
    if (foreignTxids > 0) await run(BUMP_CHANGE_EPOCH_SQL);
    await run('COMMIT');
    return { applied, foreignTxids };
  } finally {
    // closing the connection rolls back whatever did not commit, and releases the lock
    await client.end().catch(ignore);
  }
}

/**
 * Rows restored from another cluster (pg_dump, then pg_restore) keep the `txid` their first
 * cluster gave them, a number that means nothing here. One that this cluster has not reached yet
 * would look, to every kept search total, like a row committed after its snapshot: the total
 * would count it twice. Every row this statement's snapshot sees was committed before it, so a
 * genuine txid is below the snapshot's xmax; a row at or above it came from elsewhere, and gets
 * a NULL txid, which means "seen by every snapshot" (as for rows stored before migration 006).
 * Found through the txid index, so it costs nothing when there is none. With any cleared, the
 * change epoch moves too, so that totals kept meanwhile by running replicas are counted again.
 */
export const FOREIGN_TXIDS_SQL = `WITH cleared AS (
    UPDATE messages SET txid = NULL
    WHERE txid >= pg_snapshot_xmax(pg_current_snapshot())
    RETURNING 1)
  SELECT count(*) AS cleared FROM cleared`;
