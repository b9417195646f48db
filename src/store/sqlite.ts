import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { fold } from '../fold.js';
import { parseInstant } from '../instant.js';
import type { Message } from '../message.js';
import { readMigrations } from './migrations.js';
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

/** How long a write waits for another connection's lock before the request gets a 503. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * SQLite result codes that mean "the database cannot serve this now": locked, read-only, full,
 * I/O failure, unopenable. Anything else is a bug and surfaces as a 500.
 */
const UNAVAILABLE =
  /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;

function unavailable(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE.test(code)) {
    return new StoreUnavailableError(`${code}: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

/** message_id, sender, recipient, ts, ts_us, text, text_folded */
type Row = [string, string, string, string, bigint, string | null, string | null];

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
 * The embedded store: one better-sqlite3 connection in WAL mode with synchronous=FULL, so a
 * committed row survives a process crash and a power loss.
 *
 * Writes are group-committed: inserts that arrive during one turn of the event loop are written
 * in one transaction (one fsync) at the end of that turn, and each caller then gets its own
 * outcome. No request waits on a timer; a lone insert commits on the same turn.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly latestVersion: number;
  private pending: PendingInsert[] = [];
  private readonly insertOne: Database.Statement;
  private readonly insertBatch: Database.Transaction<(batch: PendingInsert[]) => InsertOutcome[]>;
  private readonly queries = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path, { timeout: BUSY_TIMEOUT_MS });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.latestVersion = this.migrate();

    this.insertOne = this.db.prepare(
      `INSERT INTO messages (message_id, sender, recipient, ts, ts_us, text, text_folded)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (message_id) DO NOTHING`,
    );
    this.insertBatch = this.db.transaction((batch: PendingInsert[]) =>
      batch.map(({ row }) => (this.insertOne.run(row).changes === 1 ? 'created' : 'duplicate')),
    );
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

  /** Commits every insert queued since the last flush in one transaction. */
  private readonly flush = (): void => {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let outcomes: InsertOutcome[];
    try {
      outcomes = this.insertBatch.immediate(batch);
    } catch (error) {
      const reason = unavailable(error);
      for (const insert of batch) insert.reject(reason);
      return;
    }
    for (const [i, insert] of batch.entries()) insert.resolve(outcomes[i] as InsertOutcome);
  };

  /** A prepared statement per distinct SQL text, prepared on first use. */
  private statement(sql: string): Database.Statement {
    let statement = this.queries.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.queries.set(sql, statement);
    }
    return statement;
  }

  private read<T>(run: () => T): Promise<T> {
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(unavailable(error));
    }
  }

  list(filter: ListFilter, page: Page): Promise<MessagePage> {
    return this.read(() => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.from !== undefined) {
        where.push('sender = ?');
        params.push(filter.from);
      }
      if (filter.since !== undefined) {
        where.push('ts_us >= ?');
        params.push(parseInstant(filter.since));
      }
      if (filter.q !== undefined) {
        where.push('instr(text_folded, ?) > 0');
        params.push(fold(filter.q));
      }
      const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
      const { total } = this.statement(`SELECT count(*) AS total FROM messages ${clause}`).get(
        ...params,
      ) as { total: number };
      if (page.after !== undefined) {
        where.push('(ts_us, message_id) > (?, ?)');
        params.push(page.after.instant, page.after.messageId);
      }
      const pageClause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
      const rows = this.statement(
        `SELECT message_id, sender AS "from", recipient AS "to", ts, text FROM messages ${pageClause}
         ORDER BY ts_us, message_id LIMIT ? OFFSET ?`,
      ).all(...params, page.limit + 1, page.offset) as StoredMessage[];
      const more = rows.length > page.limit;
      return { data: more ? rows.slice(0, page.limit) : rows, total, more };
    });
  }

  stats(): Promise<Stats> {
    return this.read(() => {
      const totals = this.statement(
        'SELECT count(*) AS total, count(DISTINCT sender) AS senders FROM messages',
      ).get() as { total: number; senders: number };
      const perSender = this.statement(
        `SELECT sender AS "from", count(*) AS count FROM messages
         GROUP BY sender ORDER BY count DESC, sender ASC LIMIT 10`,
      ).all() as { from: string; count: number }[];
      const first = this.statement(
        'SELECT ts FROM messages ORDER BY ts_us ASC, message_id ASC LIMIT 1',
      ).get() as { ts: string } | undefined;
      const last = this.statement(
        'SELECT ts FROM messages ORDER BY ts_us DESC, message_id DESC LIMIT 1',
      ).get() as { ts: string } | undefined;
      return {
        total_messages: totals.total,
        senders_count: totals.senders,
        messages_per_sender: perSender,
        first_message_ts: first?.ts ?? null,
        last_message_ts: last?.ts ?? null,
      };
    });
  }

  async check(): Promise<StoreHealth> {
    try {
      const { version } = this.statement(
        'SELECT max(version) AS version FROM schema_migrations',
      ).get() as {
        version: number | null;
      };
      const schema =
        version === this.latestVersion
          ? 'ok'
          : `at version ${version ?? 0} of ${this.latestVersion}`;
      return { database: 'ok', schema };
    } catch (error) {
      return { database: `no answer: ${(error as Error).message}`, schema: 'unknown' };
    }
  }

  async close(): Promise<void> {
    this.flush();
    if (this.db.open) this.db.close();
  }
}
