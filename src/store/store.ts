import type { Order, Position } from '../cursor.js';
import type { Message, StoredMessage } from '../message.js';
import type { SweepOptions, SweepResult } from './delete-batch.js';
import type { MessageListener } from './listeners.js';
import type {
  DayCount,
  Delivery,
  DeliveryOutcome,
  MessageDetails,
  MessageRecord,
  StatusFilter,
  StatusPage,
  StatusPageRequest,
  StatusStats,
} from './records.js';

export type * from './records.js';
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
  insert(message: Message, details?: Partial<MessageDetails>): Promise<InsertOutcome>;

  /**
   * Stores a WhatsApp delivery's messages and statuses in one transaction, each unless already
   * stored (a message by message_id, a status by message_id and status); the counts they
   * change too. Resolves once committed, rejects with nothing stored.
   */
  storeDelivery(delivery: Delivery): Promise<DeliveryOutcome>;

  /** The message stored with this exact message_id, with everything kept about it; or null. */
  get(messageId: string): Promise<MessageRecord | null>;

  /**
   * One page of the messages matching `filter`, in (instant of ts, message_id) order (reversed
   * when `page.order` is 'desc'): those after `page.after` in that order (all when it is
   * absent), skipping `page.offset`, at most `page.limit`.
   */
  list(filter: ListFilter, page: Page): Promise<MessagePage>;

  /**
   * The same page as list(), its messages already the JSON text GET /messages sends: a store
   * may serialize them where it reads them, off the HTTP thread (see json-page.ts).
   */
  listJson(filter: ListFilter, page: Page): Promise<JsonPage>;

  /**
   * Up to `limit` messages matching `filter` that come after `after` (from the first when it is
   * absent), in list order, without a total: the keyset chunks an export is read in.
   */
  scan(filter: ListFilter, after: Position | undefined, limit: number): Promise<StoredMessage[]>;

  stats(): Promise<Stats>;

  /**
   * Erases the messages `target` names, with their share of every kept total and their search
   * entries, and keeps a tombstone of each id (the id alone) so that a redelivery stores nothing.
   * Runs in batches of at most ERASE_BATCH messages, each its own transaction; resolves with how
   * many messages were erased.
   */
  erase(target: EraseTarget): Promise<number>;

  /**
   * One retention sweep: deletes the messages and delivery statuses received before `before`
   * (YYYY-MM-DDTHH:MM:SSZ), with their share of every kept total, in small batches, each its own
   * transaction. On a database several processes share, one sweeps at a time: the others
   * resolve null at once.
   */
  sweep(before: string, options?: SweepOptions): Promise<SweepResult | null>;

  /**
   * One page of the delivery statuses matching `filter`, in (instant of ts, message_id, status)
   * order, like list().
   */
  listStatuses(filter: StatusFilter, page: StatusPageRequest): Promise<StatusPage>;

  /** Statuses per status word and the commonest failure codes, from the kept counts. */
  statusStats(): Promise<StatusStats>;

  /**
   * Messages per UTC day of ts for the `days` most recent days that hold any (of sender `from`
   * when given), oldest first, from the kept hour and sender-day counts.
   */
  dailyCounts(days: number, from?: string): Promise<DayCount[]>;

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
   * message. Resolves, once every later commit will be heard, with the function that
   * unsubscribes; rejects with StoreUnavailableError when the database cannot be listened to.
   */
  subscribe(listener: MessageListener): Promise<() => void>;

  /** Finishes pending writes and releases the database. */
  close(): Promise<void>;
}

export type InsertOutcome = 'created' | 'duplicate';

/** Every message of one sender, or one message. */
export type EraseTarget = { from: string } | { messageId: string };

/** Most messages one deleting transaction removes: short enough that no insert waits long. */
export const ERASE_BATCH = 500;

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

/** A MessagePage whose messages are already JSON (Store.listJson). */
export interface JsonPage {
  /** the page's messages as a JSON array, each with the five fields in StoredMessageSchema order */
  json: string;
  total: number;
  more: boolean;
  /** the position of the page's last message, for the next cursor; null on an empty page */
  last: Position | null;
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
