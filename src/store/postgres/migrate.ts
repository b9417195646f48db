import pg from 'pg';
import type { Migration } from '../migrations.js';

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
 * above all) suit a schema change rather than a request. Returns the versions this call applied.
 */
export async function migrate(
  connection: pg.ClientConfig,
  migrations: Migration[],
): Promise<number[]> {
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
    await run('COMMIT');
    return applied;
  } finally {
    // closing the connection rolls back whatever did not commit, and releases the lock
    await client.end().catch(ignore);
  }
}
