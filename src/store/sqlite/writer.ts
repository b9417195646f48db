import type Database from 'better-sqlite3';
import { fold } from '../../fold.js';
import { dayOf, hourOf, parseInstant } from '../../instant.js';
import type { Message } from '../../message.js';
import type { DeliveryOutcome, InsertOutcome, MessageDetails } from '../store.js';
import { BUSY_TIMEOUT_MS } from './connection.js';
import { type StatusRow, StatusWriter } from './statuses.js';

/**
 * Everything that writes to the SQLite file, on one connection: insert batches (with the totals
 * they change) and the search indexer. It runs in a worker thread (writer-thread.ts), so neither
 * an fsync nor a lock held by another process ever blocks the HTTP event loop; for `:memory:`
 * databases, which one connection alone can see, it runs inline.
 */

/**
 * message_id, sender, recipient, ts, ts_us, text, text_folded, then source, type, contact_name,
 * reply_to, received_at, payload
 */
export type Row = [
  string,
  string,
  string,
  string,
  bigint,
  string | null,
  string | null,
  string,
  string | null,
  string | null,
  string | null,
  string,
  string | null,
];

/** A WhatsApp delivery: its messages and statuses, stored together. */
export interface DeliveryItem {
  rows: Row[];
  statuses: StatusRow[];
}

/** What one caller asks the writer to store: a message, or a whole delivery. */
export type WriteItem = Row | DeliveryItem;
export type WriteOutcome = InsertOutcome | DeliveryOutcome;

export class SqliteWriter {
  private readonly insertRow: { run(row: Row): Database.RunResult };
  private readonly addSender: Database.Statement;
  private readonly addHour: Database.Statement;
  private readonly addSenderDay: Database.Statement;
  private readonly addTotals: Database.Statement;
  private readonly unindexed: Database.Statement;
  /** whether any message awaits indexing (1 or 0), read without taking the write lock */
  private readonly backlog: Database.Statement;
  private readonly indexRow: Database.Statement;
  private readonly markIndexed: Database.Statement;
  private readonly statusWriter: StatusWriter;
  private readonly insertBatch: Database.Transaction<(items: WriteItem[]) => WriteOutcome[]>;
  private readonly indexBatch: Database.Transaction<(limit: number) => number>;

  constructor(private readonly db: Database.Database) {
    // seq above every seq ever used (message_seq.floor: the highest one deleted), and nothing
    // for an erased id (erased_messages: its tombstone)
    const insertRow = db.prepare(
      `INSERT INTO messages (seq, message_id, sender, recipient, ts, ts_us, text, text_folded,
                             source, type, contact_name, reply_to, received_at, payload)
       SELECT max((SELECT coalesce(max(seq), 0) FROM messages),
                  (SELECT floor FROM message_seq WHERE id = 1)) + 1,
              ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
       WHERE NOT EXISTS (SELECT 1 FROM erased_messages WHERE message_id = ?)
       ON CONFLICT (message_id) DO NOTHING`,
    );
    this.insertRow = { run: (row: Row) => insertRow.run(...row, row[0]) };
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
    this.addSenderDay = db.prepare(
      `INSERT INTO sender_day_counts (sender, day, messages) VALUES (?, ?, ?)
       ON CONFLICT (sender, day) DO UPDATE SET messages = messages + excluded.messages`,
    );
    this.addTotals = db.prepare(
      'UPDATE message_totals SET messages = messages + ?, senders = senders + ? WHERE id = 1',
    );
    this.unindexed = db.prepare(
      `SELECT seq, text_folded FROM messages
       WHERE seq > (SELECT indexed_through FROM search_index) ORDER BY seq LIMIT ?`,
    );
    this.backlog = db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM messages
                        WHERE seq > (SELECT indexed_through FROM search_index))`,
      )
      .pluck();
    this.indexRow = db.prepare('INSERT INTO messages_search (rowid, text_folded) VALUES (?, ?)');
    this.markIndexed = db.prepare('UPDATE search_index SET indexed_through = ? WHERE id = 1');

    this.statusWriter = new StatusWriter(db);
    this.insertBatch = db.transaction((items: WriteItem[]) => {
      this.statusWriter.reset();
      const outcomes: WriteOutcome[] = [];
      const senders = new Map<string, number>();
      const hours = new Map<bigint, number>();
      // sender and day, as one key: "<day> <sender>" (the day holds no space)
      const senderDays = new Map<string, number>();
      const insert = (row: Row): boolean => {
        if (this.insertRow.run(row).changes === 0) return false;
        senders.set(row[1], (senders.get(row[1]) ?? 0) + 1);
        const hour = hourOf(row[4]);
        hours.set(hour, (hours.get(hour) ?? 0) + 1);
        const senderDay = `${dayOf(row[4])} ${row[1]}`;
        senderDays.set(senderDay, (senderDays.get(senderDay) ?? 0) + 1);
        return true;
      };
      for (const item of items) {
        if (Array.isArray(item)) {
          outcomes.push(insert(item) ? 'created' : 'duplicate');
          continue;
        }
        const outcome: DeliveryOutcome = {
          messages: { created: 0, duplicate: 0 },
          statuses: { created: 0, duplicate: 0 },
        };
        for (const row of item.rows) {
          if (insert(row)) outcome.messages.created++;
          else outcome.messages.duplicate++;
        }
        for (const row of item.statuses) {
          if (this.statusWriter.insert(row)) outcome.statuses.created++;
          else outcome.statuses.duplicate++;
        }
        outcomes.push(outcome);
      }
      this.statusWriter.flush();
      let created = 0;
      let newSenders = 0;
      for (const [sender, count] of senders) {
        created += count;
        if (this.addSender.get(sender, count) === count) newSenders++;
      }
      for (const [hour, count] of hours) this.addHour.run(hour, count);
      for (const [key, count] of senderDays) {
        const space = key.indexOf(' ');
        this.addSenderDay.run(key.slice(space + 1), BigInt(key.slice(0, space)), count);
      }
      if (created > 0) this.addTotals.run(created, newSenders);
      return outcomes;
    });

    this.indexBatch = db.transaction((limit: number) => this.indexRows(limit));
  }

  /** Adds up to `limit` unindexed messages to the search index; returns how many it took. */
  private indexRows(limit: number): number {
    const rows = this.unindexed.raw().all(limit) as [number, string | null][];
    const last = rows.at(-1);
    if (last === undefined) return 0;
    for (const [seq, text] of rows) if (text !== null) this.indexRow.run(seq, text);
    this.markIndexed.run(last[0]);
    return rows.length;
  }

  /**
   * Stores what is not stored yet of every item (a message, or a whole delivery), in one
   * transaction; an outcome per item, in order.
   */
  write(items: WriteItem[]): WriteOutcome[] {
    return this.insertBatch.immediate(items);
  }

  /**
   * Indexes up to `limit` messages in a transaction of its own, unless another connection holds
   * the write lock: then it fails at once (SQLITE_BUSY) and is tried again after the next write.
   * It commits without waiting for the disk (synchronous=NORMAL): the index can always be
   * rebuilt, and if a power loss takes this step, it takes its indexed_through mark with it.
   */
  indexAlone(limit: number): number {
    if (this.backlog.get() === 0) return 0;
    // never wait for another process's lock: a write arriving meanwhile would wait behind it
    this.db.pragma('busy_timeout = 0');
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.indexBatch.immediate(limit);
    } finally {
      this.db.pragma('synchronous = FULL');
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }
}

/** The row that stores `message`, or null when its ts names no instant. */
export function rowOf(message: Message, details: MessageDetails): Row | null {
  const instant = parseInstant(message.ts);
  if (instant === null) return null;
  const text = message.text ?? null;
  return [
    message.message_id,
    message.from,
    message.to,
    message.ts,
    instant,
    text,
    text === null ? null : fold(text),
    details.source,
    details.type,
    details.contact_name,
    details.reply_to,
    details.received_at,
    details.payload,
  ];
}
