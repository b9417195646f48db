import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { fold } from '../../fold.js';
import { parseInstant } from '../../instant.js';
import type { Message } from '../../message.js';
import { BatchQueue } from '../batch-queue.js';
import { Listeners, type MessageListener } from '../listeners.js';
import type {
  InsertOutcome,
  ListFilter,
  MessagePage,
  Page,
  Stats,
  Store,
  StoreHealth,
} from '../store.js';
import { CHECKS_CACHE_KIB, openConnection, WRITER_CACHE_KIB } from './connection.js';
import { classify } from './errors.js';
import { migrate } from './migrate.js';
import { InlineReaders, type ReaderChannel, ThreadReaders } from './reader-channel.js';
import type { Row } from './writer.js';
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
  private readonly inserts: BatchQueue<Row, InsertOutcome>;
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

  insert(message: Message): Promise<InsertOutcome> {
    const instant = parseInstant(message.ts);
    if (instant === null) return Promise.reject(new TypeError('ts is not a valid instant'));
    const text = message.text ?? null;
    const inserted = this.inserts.push([
      message.message_id,
      message.from,
      message.to,
      message.ts,
      instant,
      text,
      text === null ? null : fold(text),
    ]);
    return inserted.then((outcome) => {
      if (outcome === 'created') {
        const { message_id, from, to, ts } = message;
        this.listeners.emit({ message_id, from, to, ts, text });
      }
      return outcome;
    });
  }

  /**
   * New messages of this process, after their commit. Another process writing the same file is
   * not seen (SQLite has no notifications between processes).
   */
  subscribe(listener: MessageListener): () => void {
    return this.listeners.add(listener);
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
