import type { Order, Position } from '../cursor.js';
import type { Message, StoredMessage } from '../message.js';
import type { MessageListener } from './listeners.js';

export type { StoredMessage };

/**
 * What the service needs from a database. Each implementation (SQLite, PostgreSQL) passes the
 * same contract suite in test/store/contract.ts; SQL stays inside the implementations.
 */
export interface Store {
  /**
   * Stores `message` unless its message_id is already stored (the first version wins).
   * Resolves only once the row is durably committed. Rejects with StoreUnavailableError when
   * the database cannot take the write.
   */
  insert(message: Message): Promise<InsertOutcome>;

  /**
   * One page of the messages matching `filter`, in (instant of ts, message_id) order (reversed
   * when `page.order` is 'desc'): those after `page.after` in that order (all when it is
   * absent), skipping `page.offset`, at most `page.limit`.
   */
  list(filter: ListFilter, page: Page): Promise<MessagePage>;

  stats(): Promise<Stats>;

  /** Whether the database answers a query and its schema is fully applied. Never rejects. */
  check(): Promise<StoreHealth>;

  /**
   * Stored messages that searches cannot find through the index yet and check one by one; for
   * stores whose search index is written behind the inserts. Cheap: read at every scrape.
   */
  searchBacklog?(): number;

  /**
   * Calls `listener` with every message newly stored from now on, after its commit: by this
   * process, and on PostgreSQL by any process sharing the database. A duplicate is not a new
   * message. Returns the function that unsubscribes.
   */
  subscribe(listener: MessageListener): () => void;

  /** Finishes pending writes and releases the database. */
  close(): Promise<void>;
}

export type InsertOutcome = 'created' | 'duplicate';

/** The filters of GET /messages, already parsed at the HTTP edge. */
export interface ListFilter {
  /** exact sender, E.164 */
  from?: string;
  /** keeps messages whose ts is at or after this instant (microseconds, see instant.ts) */
  since?: bigint;
  /** case-insensitive substring of text, already folded (see fold.ts); %, _ and \ are literal */
  q?: string;
}

export interface Page {
  limit: number;
  offset: number;
  /** start after this position (a cursor); the offset then counts from there */
  after?: Position;
  /** 'asc' (the default): oldest first; 'desc': newest first */
  order?: Order;
}

export interface MessagePage {
  data: StoredMessage[];
  /** every message matching the filter, not just this page (nor only those after the cursor) */
  total: number;
  /** whether more messages follow this page */
  more: boolean;
}

/** How many of the busiest senders GET /stats lists. */
export const TOP_SENDERS = 10;

export interface Stats {
  total_messages: number;
  senders_count: number;
  messages_per_sender: { from: string; count: number }[];
  first_message_ts: string | null;
  last_message_ts: string | null;
}

/** Each check is "ok" or says why it failed. */
export interface StoreHealth {
  database: string;
  schema: string;
}

/** Where a store reports what happens outside any request: migrations, lost connections. */
export interface StoreLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** The database cannot serve the request now (down, locked, read-only, full); retrying is safe. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
