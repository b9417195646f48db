import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { fold } from '../fold.js';
import { parseInstant } from '../instant.js';
import type { Message } from '../message.js';
import { readMigrations } from './migrations.js';
import { InlineReaders, type Readers, ThreadReaders } from './sqlite-readers.js';
import { CHECKS_CACHE_KIB, openConnection, type Row, WRITER_CACHE_KIB } from './sqlite-writer.js';
import { InlineWriter, WorkerWriter, type WriterChannel } from './sqlite-writer-channel.js';
import {
  type InsertOutcome,
  type ListFilter,
  type MessagePage,
  type Page,
  type Stats,
  type Store,
  type StoreHealth,
  StoreUnavailableError,
} from './store.js';

/**
 * SQLite result codes that mean "the database cannot serve this now": locked, read-only, full,
 * I/O failure, unopenable. Anything else is a bug and surfaces as a 500.
 */
const UNAVAILABLE =
  /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;

export function unavailable(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE.test(code)) {
    return new StoreUnavailableError(`${code}: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

/** Reader threads of a file database: one can run a long search while another answers pages. */
const READERS = 2;

/** Batches sent to the writer and not answered yet, at most (see flush). */
const MAX_BATCHES_OUT = 2;

interface PendingInsert {
  row: Row;
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: unknown) => void;
}

export interface SqliteStoreOptions {
  /** a file path, or ':memory:' */
  path: string;
}

/**
 * The embedded store. A file database gets a connection per thread, in WAL mode (readers never
 * wait for the writer): a worker thread writes (sqlite-writer.ts), reader threads answer queries
 * (sqlite-reader.ts), and this thread keeps one for migrations and the quick checks of
 * /health/ready and /metrics. An fsync, a long search or another process's lock never stalls
 * the event loop. `:memory:` has one connection, used inline.
 *
 * Writes are group-committed: inserts go to the writer in batches, at the end of the event-loop
 * turn they arrived in or, while the writer is busy, as soon as it can take the next one (never
 * after a timer); the writer commits every batch that queued up in one transaction (one fsync).
 * Each caller gets its own outcome once its batch is committed (synchronous=FULL: on disk).
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly latestVersion: number;
  private readonly writer: WriterChannel;
  private readonly readers: Readers;
  /** messages not in the search index yet (read here: the metrics ask for it synchronously) */
  private readonly backlog: Database.Statement;
  private pending: PendingInsert[] = [];
  /** batches sent to the writer and not answered yet */
  private writing = 0;
  private idle: (() => void) | null = null;

  constructor(options: SqliteStoreOptions) {
    const memory = options.path === ':memory:';
    if (!memory) mkdirSync(dirname(options.path), { recursive: true });
    this.db = openConnection(options.path, memory ? WRITER_CACHE_KIB : CHECKS_CACHE_KIB);
    this.latestVersion = this.migrate();
    this.writer = memory ? new InlineWriter(this.db) : new WorkerWriter(options.path);
    this.readers = memory ? new InlineReaders(this.db) : new ThreadReaders(options.path, READERS);
    this.backlog = this.db
      .prepare(
        'SELECT coalesce(max(seq), 0) - (SELECT indexed_through FROM search_index) FROM messages',
      )
      .pluck();
  }

  /** Applies pending migrations, each in its own write transaction; returns the schema version. */
  private migrate(): number {
    const migrations = readMigrations('sqlite');
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    INTEGER NOT NULL PRIMARY KEY,
         name       TEXT    NOT NULL,
         applied_at TEXT    NOT NULL
       ) STRICT`,
    );
    const applied = this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
    const record = this.db.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'))",
    );
    for (const migration of migrations) {
      // IMMEDIATE: a second process starting on the same file waits, then sees the row and skips
      this.db
        .transaction(() => {
          if (applied.get(migration.version) !== undefined) return;
          this.db.exec(migration.sql);
          record.run(migration.version, migration.name);
        })
        .immediate();
    }
    return migrations.length;
  }

  insert(message: Message): Promise<InsertOutcome> {
    const instant = parseInstant(message.ts);
    if (instant === null) return Promise.reject(new TypeError('ts is not a valid instant'));
    const text = message.text ?? null;
    const row: Row = [
      message.message_id,
      message.from,
      message.to,
      message.ts,
      instant,
      text,
      text === null ? null : fold(text),
    ];
    return new Promise((resolve, reject) => {
      this.pending.push({ row, resolve, reject });
      if (this.pending.length === 1) setImmediate(this.flush);
    });
  }

  /**
   * Sends the queued inserts to the writer as one batch, unless MAX_BATCHES_OUT are already on
   * their way: the writer then always has the next batch waiting when a commit ends, while the
   * inserts arriving meanwhile keep gathering here into one larger batch.
   */
  private readonly flush = (): void => {
    const batch = this.pending;
    if (batch.length === 0 || this.writing >= MAX_BATCHES_OUT) return;
    this.pending = [];
    this.writing++;
    this.writer.write(batch.map((insert) => insert.row)).then(
      (outcomes) => {
        for (const [i, insert] of batch.entries()) insert.resolve(outcomes[i] as InsertOutcome);
        this.written();
      },
      (error: unknown) => {
        const reason = unavailable(error);
        for (const insert of batch) insert.reject(reason);
        this.written();
      },
    );
  };

  private written(): void {
    this.writing--;
    if (this.pending.length > 0) this.flush();
    else if (this.writing === 0) this.idle?.();
  }

  list(filter: ListFilter, page: Page): Promise<MessagePage> {
    return this.readers.read({ type: 'list', filter, page }).catch((error) => {
      throw unavailable(error);
    });
  }

  stats(): Promise<Stats> {
    return this.readers.read({ type: 'stats' }).catch((error) => {
      throw unavailable(error);
    });
  }

  async check(): Promise<StoreHealth> {
    try {
      const version = this.db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as
        | number
        | null;
      const schema =
        version === this.latestVersion
          ? 'ok'
          : `at version ${version ?? 0} of ${this.latestVersion}`;
      return { database: 'ok', schema };
    } catch (error) {
      return { database: `no answer: ${(error as Error).message}`, schema: 'unknown' };
    }
  }

  /** Messages written but not yet in the search index (searches scan them directly). */
  searchBacklog(): number {
    try {
      return this.backlog.get() as number;
    } catch {
      return 0; // closed or unreadable: /health/ready reports that
    }
  }

  /** Commits every pending insert, then stops the writer and closes the database. */
  async close(): Promise<void> {
    if (this.writing > 0 || this.pending.length > 0) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        this.flush();
      });
    }
    await Promise.all([this.writer.close(), this.readers.close()]);
    if (this.db.open) this.db.close();
  }
}
