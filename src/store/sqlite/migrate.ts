import type Database from 'better-sqlite3';
import { latestVersion, readMigrations } from '../migrations.js';

/**
 * Applies the migrations of migrations/sqlite/ that `schema_migrations` does not list yet, each
 * in its own write transaction; returns the latest schema version. IMMEDIATE transactions: a
 * second process starting on the same file waits for the first, then sees each version recorded
 * and skips it.
 */
export function migrate(db: Database.Database): number {
  const migrations = readMigrations('sqlite');
  db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version    INTEGER NOT NULL PRIMARY KEY,
       name       TEXT    NOT NULL,
       applied_at TEXT    NOT NULL
     ) STRICT`,
  );
  const applied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'))",
  );
  for (const migration of migrations) {
    db.transaction(() => {
      if (applied.get(migration.version) !== undefined) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name);
    }).immediate();
  }
  return latestVersion(migrations);
}
