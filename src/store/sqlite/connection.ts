import Database from 'better-sqlite3';

/**
 * How every connection to a SQLite file is opened: the writer's, the readers' and the one that
 * migrates and answers the quick checks. Each thread opens its own.
 */

/** How long a write waits for another connection's lock before it fails (SQLITE_BUSY → 503). */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Page cache per connection, in KiB. Inserts touch three B-trees at random places (message_id,
 * sender, instant); with SQLite's default 2 MB most of those pages would be read from the file
 * again once the table is large.
 */
export const WRITER_CACHE_KIB = 32 * 1024;
export const READER_CACHE_KIB = 8 * 1024;
/** the connection that only migrates and answers the quick checks */
export const CHECKS_CACHE_KIB = 2 * 1024;

/**
 * The writer thread's automatic checkpoint, in pages of the log (64 MB at 4 KiB a page): a
 * bound on the log that the checkpointer thread normally keeps far below.
 */
export const WRITER_AUTOCHECKPOINT_PAGES = 16_000;

/** Connection settings shared by every connection to the file. */
function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk when it returns, so an acknowledged message survives a process
  // crash and a power loss.
  db.pragma('synchronous = FULL');
  // Checkpoint less often: inserts touch several indexes, and each checkpoint rewrites their
  // pages (the WAL is still bounded: 16 MB of pages at the default page size).
  db.pragma('wal_autocheckpoint = 4000');
}

export function openConnection(path: string, cacheKib: number): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  configure(db);
  db.pragma(`cache_size = -${cacheKib}`);
  return db;
}
