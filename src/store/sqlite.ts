import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { fold } from '../fold.js';
import { dayOf, hourOf, MICROS_PER_DAY, MICROS_PER_HOUR, parseInstant } from '../instant.js';
import type { Message } from '../message.js';
import { readMigrations } from './migrations.js';
import { SqliteSearch } from './sqlite-search.js';
import { openConnection, READER_CACHE_KIB, type Row, WRITER_CACHE_KIB } from './sqlite-writer.js';
import { InlineWriter, WorkerWriter, type WriterChannel } from './sqlite-writer-channel.js';
import {
  type InsertOutcome,
  type ListFilter,
  type MessagePage,
  type Page,
  type Stats,
  type Store,
  type StoredMessage,
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
 * The embedded store. A file database gets two connections in WAL mode: this thread reads, and
 * a worker thread writes (sqlite-writer.ts), so an fsync or another process's lock never stalls
 * the event loop. `:memory:` has one connection, written inline.
 *
 * Writes are group-committed: inserts go to the writer in batches, at the end of the event-loop
 * turn they arrived in or, while the writer is busy, as soon as it can take the next one (never
 * after a timer); the writer commits every batch that queued up in one transaction (one fsync). Each caller gets its own outcome once its
 * batch is committed (synchronous=FULL: on disk).
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly latestVersion: number;
  private readonly writer: WriterChannel;
  private readonly search: SqliteSearch;
  private pending: PendingInsert[] = [];
  /** batches sent to the writer and not answered yet */
  private writing = 0;
  private idle: (() => void) | null = null;
  private readonly queries = new Map<string, Database.Statement>();
  private readonly snapshot: <T>(read: () => T) => T;

  constructor(options: SqliteStoreOptions) {
    const memory = options.path === ':memory:';
    if (!memory) mkdirSync(dirname(options.path), { recursive: true });
    this.db = openConnection(options.path, memory ? WRITER_CACHE_KIB : READER_CACHE_KIB);
    this.latestVersion = this.migrate();
    this.writer = memory ? new InlineWriter(this.db) : new WorkerWriter(options.path);
    this.search = new SqliteSearch((sql) => this.statement(sql));
    const readTransaction = this.db.transaction((read: () => unknown) => read());
    this.snapshot = <T>(read: () => T) => readTransaction(read) as T;
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

  /** A prepared statement per distinct SQL text, prepared on first use. */
  private statement(sql: string): Database.Statement {
    let statement = this.queries.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.queries.set(sql, statement);
    }
    return statement;
  }

  /** Runs `read` on one consistent snapshot of the database. */
  private read<T>(read: () => T): Promise<T> {
    try {
      return Promise.resolve(this.snapshot(read));
    } catch (error) {
      return Promise.reject(unavailable(error));
    }
  }

  list(filter: ListFilter, page: Page): Promise<MessagePage> {
    return this.read(() => {
      const since = filter.since === undefined ? undefined : parseInstant(filter.since);
      const q = filter.q === undefined ? undefined : fold(filter.q);
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.from !== undefined) {
        where.push('sender = ?');
        params.push(filter.from);
      }
      if (since !== undefined && since !== null) {
        where.push('ts_us >= ?');
        params.push(since);
      }
      const kept = this.count(filter.from, since ?? undefined);
      const total = q === undefined ? kept : this.search.count(q, where, params);
      if (page.after !== undefined) {
        where.push('(ts_us, message_id) > (?, ?)');
        params.push(page.after.instant, page.after.messageId);
      }
      const rows =
        q === undefined
          ? (this.statement(
              `SELECT message_id, sender AS "from", recipient AS "to", ts, text FROM messages
               ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
               ORDER BY ts_us, message_id LIMIT ? OFFSET ?`,
            ).all(...params, page.limit + 1, page.offset) as StoredMessage[])
          : this.search.page(q, { total, kept }, where, params, page.limit + 1, page.offset);
      const more = rows.length > page.limit;
      return { data: more ? rows.slice(0, page.limit) : rows, total, more };
    });
  }

  /** Messages from `from` (when given) at or after `since` (when given), from the totals kept. */
  private count(from: string | undefined, since: bigint | undefined): number {
    const one = (sql: string, ...values: unknown[]) =>
      (this.statement(sql)
        .pluck()
        .get(...values) as number | null | undefined) ?? 0;
    if (from === undefined && since === undefined)
      return one('SELECT messages FROM message_totals WHERE id = 1');
    if (since === undefined)
      return one('SELECT messages FROM sender_counts WHERE sender = ?', from);
    if (from === undefined) {
      // whole hours after the one `since` falls in, plus the rest of that hour
      const hour = hourOf(since);
      return (
        one('SELECT sum(messages) FROM hour_counts WHERE hour > ?', hour) +
        one(
          'SELECT count(*) FROM messages WHERE ts_us >= ? AND ts_us < ?',
          since,
          (hour + 1n) * MICROS_PER_HOUR,
        )
      );
    }
    // the sender's whole days after the one `since` falls in, plus the rest of that day
    const day = dayOf(since);
    return (
      one('SELECT sum(messages) FROM sender_day_counts WHERE sender = ? AND day > ?', from, day) +
      one(
        'SELECT count(*) FROM messages WHERE sender = ? AND ts_us >= ? AND ts_us < ?',
        from,
        since,
        (day + 1n) * MICROS_PER_DAY,
      )
    );
  }

  stats(): Promise<Stats> {
    return this.read(() => {
      const totals = this.statement(
        'SELECT messages, senders FROM message_totals WHERE id = 1',
      ).get() as { messages: number; senders: number };
      const perSender = this.statement(
        `SELECT sender AS "from", messages AS count FROM sender_counts
         ORDER BY messages DESC, sender ASC LIMIT 10`,
      ).all() as { from: string; count: number }[];
      const first = this.statement('SELECT ts FROM messages ORDER BY ts_us, message_id LIMIT 1')
        .pluck()
        .get() as string | undefined;
      const last = this.statement(
        'SELECT ts FROM messages ORDER BY ts_us DESC, message_id DESC LIMIT 1',
      )
        .pluck()
        .get() as string | undefined;
      return {
        total_messages: totals.messages,
        senders_count: totals.senders,
        messages_per_sender: perSender,
        first_message_ts: first ?? null,
        last_message_ts: last ?? null,
      };
    });
  }

  async check(): Promise<StoreHealth> {
    try {
      const version = this.statement('SELECT max(version) FROM schema_migrations').pluck().get() as
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
      return this.statement(
        'SELECT coalesce(max(seq), 0) - (SELECT indexed_through FROM search_index) FROM messages',
      )
        .pluck()
        .get() as number;
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
    await this.writer.close();
    if (this.db.open) this.db.close();
  }
}
