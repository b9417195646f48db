import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { Position } from '../../cursor.js';
import type { Message } from '../../message.js';
import { BatchQueue } from '../batch-queue.js';
import { CountCache, filterKey, type KeptCount, LIGHT_SENDER_ROWS } from '../count-cache.js';
import {
  type DeleteBatch,
  type SweepOptions,
  type SweepResult,
  sweepInBatches,
} from '../delete-batch.js';
import { Listeners, type MessageListener } from '../listeners.js';
import { detailsOf } from '../records.js';
import {
  type DayCount,
  type Delivery,
  type DeliveryOutcome,
  ERASE_BATCH,
  type EraseTarget,
  type InsertOutcome,
  type JsonPage,
  type ListFilter,
  type MessageDetails,
  type MessagePage,
  type MessageRecord,
  type Page,
  type Stats,
  type StatusFilter,
  type StatusPage,
  type StatusPageRequest,
  type StatusStats,
  type Store,
  type StoredMessage,
  type StoreHealth,
} from '../store.js';
import { CHECKS_CACHE_KIB, openConnection, WRITER_CACHE_KIB } from './connection.js';
import { classify } from './errors.js';
import { migrate } from './migrate.js';
import { SqliteReader } from './reader.js';
import {
  InlineReaders,
  type Lane,
  type ReaderChannel,
  type ReadRequest,
  ThreadReaders,
} from './reader-channel.js';
import { statusRowOf } from './statuses.js';
import { type Row, rowOf, type WriteItem, type WriteOutcome } from './writer.js';
import { InlineWriter, ThreadWriter, type WriterChannel } from './writer-channel.js';

/** Rows one sweep request asks the writer to delete (in steps of a few ms each). */
const SQLITE_SWEEP_REQUEST = 2000;

/**
 * Reader threads of a file database: one for queries that only read a few index pages, one for
 * searches whose total must be counted from scratch (see reader-channel.ts).
 */
const READER_LANES = { light: 1, heavy: 1 };

/**
 * Batches sent to the writer and not answered yet, at most: the writer then always has the next
 * batch waiting when a commit ends, while the inserts arriving meanwhile gather into one larger
 * batch.
 */
const MAX_BATCHES_OUT = 2;

export interface SqliteStoreOptions {
  /** a file path, or ':memory:' */
  path: string;
}

/**
 * The embedded store. A file database gets a connection per thread, in WAL mode (readers never
 * wait for the writer): a worker thread writes (writer.ts), reader threads answer queries
 * (reader.ts), and this thread keeps one for migrations and the quick checks of /health/ready
 * and /metrics. An fsync, a long search or another process's lock never stalls the event loop.
 * `:memory:` has one connection, used inline.
 *
 * Writes are group-committed (see ../batch-queue.ts); the writer commits every batch that queued
 * up in one transaction (one fsync). Each caller gets its own outcome once its batch is committed
 * (synchronous=FULL: on disk).
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly latestVersion: number;
  private readonly writer: WriterChannel;
  private readonly readers: ReaderChannel;
  private readonly inserts: BatchQueue<WriteItem, WriteOutcome>;
  /** messages not in the search index yet (read here: the metrics ask for it synchronously) */
  private readonly backlog: Database.Statement;
  /** exact search totals, topped up by the readers (see ../count-cache.ts) */
  private readonly counts = new CountCache<number>();
  /** GET /stats on this thread's connection, kept until any connection commits (file only) */
  private readonly statsReader: SqliteReader | null;
  private keptStats: { version: number; stats: Stats } | null = null;
  private readonly dataVersion: Database.Statement;
  private readonly listeners = new Listeners();

  constructor(options: SqliteStoreOptions) {
    const memory = options.path === ':memory:';
    if (!memory) mkdirSync(dirname(options.path), { recursive: true });
    this.db = openConnection(options.path, memory ? WRITER_CACHE_KIB : CHECKS_CACHE_KIB);
    this.latestVersion = migrate(this.db);
    this.writer = memory ? new InlineWriter(this.db) : new ThreadWriter(options.path);
    this.readers = memory
      ? new InlineReaders(this.db)
      : new ThreadReaders(options.path, READER_LANES);
    this.statsReader = memory ? null : new SqliteReader(this.db);
    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.inserts = new BatchQueue({
      write: (rows) =>
        this.writer.write(rows).catch((error) => {
          throw classify(error);
        }),
      maxInFlight: MAX_BATCHES_OUT,
    });
    this.backlog = this.db
      .prepare(
        'SELECT coalesce(max(seq), 0) - (SELECT indexed_through FROM search_index) FROM messages',
      )
      .pluck();
  }

  insert(message: Message, details?: Partial<MessageDetails>): Promise<InsertOutcome> {
    const row = rowOf(message, detailsOf(details));
    if (row === null) return Promise.reject(new TypeError('ts is not a valid instant'));
    const inserted = this.inserts.push(row) as Promise<InsertOutcome>;
    return inserted.then((outcome) => {
      if (outcome === 'created') this.announce([message]);
      return outcome;
    });
  }

  /** Tells the subscribers about new messages, in the five fields of /messages. */
  private announce(messages: Message[]): void {
    if (this.listeners.size === 0) return;
    for (const { message_id, from, to, ts, text } of messages) {
      this.listeners.emit({ message_id, from, to, ts, text: text ?? null });
    }
  }

  /**
   * New messages of this process, after their commit. Another process writing the same file is
   * not seen (SQLite has no notifications between processes). A delivery that stored some of
   * its messages announces all of them: its outcome counts, it does not name, the new ones (a
   * redelivery of an entirely stored delivery announces nothing).
   */
  async subscribe(listener: MessageListener): Promise<() => void> {
    return this.listeners.add(listener);
  }

  /** Goes through the same group commit as single inserts: deliveries batch together. */
  storeDelivery(delivery: Delivery): Promise<DeliveryOutcome> {
    const rows: Row[] = [];
    for (const { message, details } of delivery.messages) {
      const row = rowOf(message, details);
      if (row === null) return Promise.reject(new TypeError('ts is not a valid instant'));
      rows.push(row);
    }
    const statuses = delivery.statuses.map(statusRowOf);
    const stored = this.inserts.push({ rows, statuses }) as Promise<DeliveryOutcome>;
    return stored.then((outcome) => {
      if (outcome.messages.created > 0) this.announce(delivery.messages.map((m) => m.message));
      return outcome;
    });
  }

  listStatuses(filter: StatusFilter, page: StatusPageRequest): Promise<StatusPage> {
    return this.read({ type: 'statuses', filter, page });
  }

  statusStats(): Promise<StatusStats> {
    return this.read({ type: 'statusStats' });
  }

  dailyCounts(days: number, from?: string): Promise<DayCount[]> {
    return this.read({ type: 'daily', days, ...(from === undefined ? {} : { from }) });
  }

  private read<R extends ReadRequest>(request: R, lane: Lane = 'light') {
    return this.readers.read(request, lane).catch((error) => {
      throw classify(error);
    });
  }

  get(messageId: string): Promise<MessageRecord | null> {
    return this.read({ type: 'get', messageId });
  }

  async list(filter: ListFilter, page: Page): Promise<MessagePage> {
    const { data, total, more } = await this.listed(filter, (kept, lane) =>
      this.readers.read({ type: 'list', filter, page, kept }, lane),
    );
    return { data, total, more };
  }

  async listJson(filter: ListFilter, page: Page): Promise<JsonPage> {
    const { json, total, more, last } = await this.listed(filter, (kept, lane) =>
      this.readers.read({ type: 'listJson', filter, page, kept }, lane),
    );
    return { json, total, more, last };
  }

  /** A page read in a reader thread; a search's total is kept and topped up (count-cache.ts). */
  private async listed<T extends { kept?: KeptCount<number> }>(
    filter: ListFilter,
    read: (kept: KeptCount<number> | undefined, lane: Lane) => Promise<T>,
  ): Promise<T> {
    try {
      if (filter.q === undefined) return await read(undefined, 'light');
      return await this.counts.read(filterKey(filter), (kept) =>
        read(kept, this.lane(filter, kept)),
      );
    } catch (error) {
      throw classify(error);
    }
  }

  /** An export's keyset walk: light, unless `q` makes it check rows one by one. */
  scan(filter: ListFilter, after: Position | undefined, limit: number): Promise<StoredMessage[]> {
    return this.read(
      { type: 'scan', filter, after, limit },
      filter.q === undefined ? 'light' : 'heavy',
    );
  }

  /**
   * A search counted from scratch is heavy, unless `from` (or `from` and `since`) keep so few
   * messages that it checks them one by one (see search.ts); the kept totals say how many, on
   * this thread in a few index lookups.
   */
  private lane(filter: ListFilter, kept: KeptCount<number> | undefined): Lane {
    if (kept !== undefined) return 'light';
    if (filter.from === undefined || this.statsReader === null) return 'heavy';
    return this.statsReader.keptTotal(filter) <= LIGHT_SENDER_ROWS ? 'light' : 'heavy';
  }

  /**
   * A file database answers on this thread (about 0.1 ms), and keeps the answer until any
   * connection, this process's writer or another process, commits: SQLite's data_version says so.
   */
  async stats(): Promise<Stats> {
    try {
      if (this.statsReader === null) return await this.readers.read({ type: 'stats' }, 'light');
      const version = this.dataVersion.get() as number;
      if (this.keptStats?.version !== version) {
        this.keptStats = { version, stats: this.statsReader.stats() };
      }
      return this.keptStats.stats;
    } catch (error) {
      throw classify(error);
    }
  }

  async erase(target: EraseTarget): Promise<number> {
    const batch: DeleteBatch = {
      target:
        'from' in target
          ? { kind: 'sender', from: target.from }
          : { kind: 'id', messageId: target.messageId },
      limit: ERASE_BATCH,
      tombstone: true,
    };
    let erased = 0;
    for (;;) {
      const deleted = await this.writer.delete(batch).catch((error) => {
        throw classify(error);
      });
      erased += deleted;
      if (deleted < batch.limit) return erased;
    }
  }

  /** One process owns a SQLite file's writes: its sweep always runs (through the writer). */
  sweep(before: string, options?: SweepOptions): Promise<SweepResult> {
    const run = (batch: DeleteBatch) =>
      this.writer.delete(batch).catch((error) => {
        throw classify(error);
      });
    // a batch here is only a request to the writer, which deletes in short idle-time steps
    return sweepInBatches(run, before, { batch: SQLITE_SWEEP_REQUEST, ...options });
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
    await this.inserts.drain();
    await Promise.all([this.writer.close(), this.readers.close()]);
    if (this.db.open) this.db.close();
  }
}
