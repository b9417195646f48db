import Database from 'better-sqlite3';
import type { InsertOutcome } from './store.js';

/**
 * Everything that writes to the SQLite file, on one connection: insert batches (with the totals
 * they change) and the search indexer. It runs in a worker thread (sqlite-worker.ts), so neither
 * an fsync nor a lock held by another process ever blocks the HTTP event loop; for `:memory:`
 * databases, which one connection alone can see, it runs inline.
 */

/** How long a write waits for another connection's lock before it fails (SQLITE_BUSY → 503). */
export const BUSY_TIMEOUT_MS = 5000;

const MICROS_PER_HOUR = 3_600_000_000n;

/** message_id, sender, recipient, ts, ts_us, text, text_folded */
export type Row = [string, string, string, string, bigint, string | null, string | null];

/** The UTC hour an instant falls in (floor division, also before 1970). */
export function hourOf(instant: bigint): bigint {
  const hour = instant / MICROS_PER_HOUR;
  return instant < 0n && instant % MICROS_PER_HOUR !== 0n ? hour - 1n : hour;
}

/** Connection settings shared by every connection to the file. */
export function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk when it returns, so an acknowledged message survives a process
  // crash and a power loss.
  db.pragma('synchronous = FULL');
  // Checkpoint less often: inserts touch several indexes, and each checkpoint rewrites their
  // pages (the WAL is still bounded: 16 MB of pages at the default page size).
  db.pragma('wal_autocheckpoint = 4000');
}

export function openConnection(path: string): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  configure(db);
  return db;
}

export class SqliteWriter {
  private readonly insertRow: Database.Statement;
  private readonly addSender: Database.Statement;
  private readonly addHour: Database.Statement;
  private readonly addTotals: Database.Statement;
  private readonly unindexed: Database.Statement;
  private readonly indexRow: Database.Statement;
  private readonly markIndexed: Database.Statement;
  private readonly lastSeq: Database.Statement;
  private readonly insertBatch: Database.Transaction<(rows: Row[]) => InsertOutcome[]>;
  private readonly indexBatch: Database.Transaction<(limit: number) => number>;

  constructor(private readonly db: Database.Database) {
    this.insertRow = db.prepare(
      `INSERT INTO messages (message_id, sender, recipient, ts, ts_us, text, text_folded)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (message_id) DO NOTHING`,
    );
    this.addSender = db
      .prepare(
        `INSERT INTO sender_counts (sender, messages) VALUES (?, ?)
         ON CONFLICT (sender) DO UPDATE SET messages = messages + excluded.messages
         RETURNING messages`,
      )
      .pluck();
    this.addHour = db.prepare(
      `INSERT INTO hour_counts (hour, messages) VALUES (?, ?)
       ON CONFLICT (hour) DO UPDATE SET messages = messages + excluded.messages`,
    );
    this.addTotals = db.prepare(
      'UPDATE message_totals SET messages = messages + ?, senders = senders + ? WHERE id = 1',
    );
    this.unindexed = db.prepare(
      `SELECT seq, text_folded FROM messages
       WHERE seq > (SELECT indexed_through FROM search_index) ORDER BY seq LIMIT ?`,
    );
    this.indexRow = db.prepare('INSERT INTO messages_search (rowid, text_folded) VALUES (?, ?)');
    this.markIndexed = db.prepare('UPDATE search_index SET indexed_through = ? WHERE id = 1');
    this.lastSeq = db.prepare('SELECT max(seq) FROM messages').pluck();

    this.insertBatch = db.transaction((rows: Row[]) => {
      const outcomes: InsertOutcome[] = [];
      const senders = new Map<string, number>();
      const hours = new Map<bigint, number>();
      for (const row of rows) {
        if (this.insertRow.run(row).changes === 0) {
          outcomes.push('duplicate');
          continue;
        }
        outcomes.push('created');
        senders.set(row[1], (senders.get(row[1]) ?? 0) + 1);
        const hour = hourOf(row[4]);
        hours.set(hour, (hours.get(hour) ?? 0) + 1);
      }
      let created = 0;
      let newSenders = 0;
      for (const [sender, count] of senders) {
        created += count;
        if (this.addSender.get(sender, count) === count) newSenders++;
      }
      for (const [hour, count] of hours) this.addHour.run(hour, count);
      if (created > 0) this.addTotals.run(created, newSenders);
      return outcomes;
    });

    this.indexBatch = db.transaction((limit: number) => {
      const rows = this.unindexed.raw().all(limit) as [number, string | null][];
      const last = rows.at(-1);
      if (last === undefined) return 0;
      for (const [seq, text] of rows) if (text !== null) this.indexRow.run(seq, text);
      this.markIndexed.run(last[0]);
      return rows.length;
    });
  }

  /** Stores the rows not stored yet, in one transaction; an outcome per row, in order. */
  write(rows: Row[]): InsertOutcome[] {
    return this.insertBatch.immediate(rows);
  }

  /** Adds up to `limit` unindexed messages to the search index; returns how many it took. */
  indexSome(limit: number): number {
    return this.indexBatch.immediate(limit);
  }

  /** Messages not in the search index yet. */
  backlog(): number {
    const last = (this.lastSeq.get() as number | null) ?? 0;
    const through = this.db.prepare('SELECT indexed_through FROM search_index').pluck().get();
    return last - (through as number);
  }
}

/** How long one step of the search indexer may run before writes get their turn again. */
const INDEX_STEP_MS = 3;

/**
 * Keeps the search index caught up without delaying acknowledgements: it indexes in short steps
 * (about INDEX_STEP_MS each, one transaction per step) whenever the thread has nothing else to
 * do. setImmediate runs after pending I/O, so a batch of inserts that arrives waits at most one
 * step.
 */
export class SearchIndexer {
  private scheduled = false;
  private stopped = false;
  private rowsPerStep = 32;

  constructor(
    private readonly writer: SqliteWriter,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Call after every write: indexes the new rows once the thread is idle. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.step);
  }

  stop(): void {
    this.stopped = true;
  }

  private readonly step = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    let indexed: number;
    const started = performance.now();
    try {
      indexed = this.writer.indexSome(this.rowsPerStep);
    } catch (error) {
      // a locked or failing database: try again on the next write
      this.onError(error);
      return;
    }
    const elapsed = performance.now() - started;
    if (indexed === this.rowsPerStep) {
      const scale = INDEX_STEP_MS / Math.max(elapsed, 0.05);
      this.rowsPerStep = Math.max(
        8,
        Math.min(4096, Math.round(this.rowsPerStep * Math.min(scale, 2))),
      );
      this.wake();
    }
  };
}
