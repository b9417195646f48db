import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { Message } from '../../message.js';
import { BatchQueue } from '../batch-queue.js';
import { Listeners, type MessageListener } from '../listeners.js';
import { detailsOf } from '../records.js';
import type {
  DayCount,
  Delivery,
  DeliveryOutcome,
  InsertOutcome,
  ListFilter,
  MessageDetails,
  MessagePage,
  MessageRecord,
  Page,
  Stats,
  StatusFilter,
  StatusPage,
  StatusPageRequest,
  StatusStats,
  Store,
  StoreHealth,
} from '../store.js';
import { CHECKS_CACHE_KIB, openConnection, WRITER_CACHE_KIB } from './connection.js';
import { classify } from './errors.js';
import { migrate } from './migrate.js';
import {
  InlineReaders,
  type ReaderChannel,
  type ReadRequest,
  ThreadReaders,
} from './reader-channel.js';
import { statusRowOf } from './statuses.js';
import { type Row, rowOf, type WriteItem, type WriteOutcome } from './writer.js';
import { InlineWriter, ThreadWriter, type WriterChannel } from './writer-channel.js';

/** Reader threads of a file database: one can run a long search while another answers pages. */
const READERS = 2;

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
  private readonly listeners = new Listeners();

  constructor(options: SqliteStoreOptions) {
    const memory = options.path === ':memory:';
    if (!memory) mkdirSync(dirname(options.path), { recursive: true });
    this.db = openConnection(options.path, memory ? WRITER_CACHE_KIB : CHECKS_CACHE_KIB);
    this.latestVersion = migrate(this.db);
    this.writer = memory ? new InlineWriter(this.db) : new ThreadWriter(options.path);
    this.readers = memory ? new InlineReaders(this.db) : new ThreadReaders(options.path, READERS);
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

  private read<R extends ReadRequest>(request: R) {
    return this.readers.read(request).catch((error) => {
      throw classify(error);
    });
  }

  get(messageId: string): Promise<MessageRecord | null> {
    return this.readers.read({ type: 'get', messageId }).catch((error) => {
      throw classify(error);
    });
  }

  list(filter: ListFilter, page: Page): Promise<MessagePage> {
    return this.readers.read({ type: 'list', filter, page }).catch((error) => {
      throw classify(error);
    });
  }

  stats(): Promise<Stats> {
    return this.readers.read({ type: 'stats' }).catch((error) => {
      throw classify(error);
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
    await this.inserts.drain();
    await Promise.all([this.writer.close(), this.readers.close()]);
    if (this.db.open) this.db.close();
  }
}
