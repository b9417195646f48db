import type Database from 'better-sqlite3';
import { dayOf, hourOf } from '../../instant.js';
import type { DeleteBatch, DeleteTarget } from '../delete-batch.js';
import { bumpChangeEpoch } from './epoch.js';

/**
 * Deleting messages on SQLite (erasure and retention), on the writer's connection. A batch is
 * one transaction that removes the rows, their search index entries and their share of every
 * kept total (overall, per sender, per hour, per sender and day), so that a reader never sees a
 * total that disagrees with the rows.
 */

type MessageTarget = Exclude<DeleteTarget, { kind: 'statuses-received-before' }>;

type Doomed = [seq: bigint, messageId: string, sender: string, tsUs: bigint, folded: string | null];

const SELECT = 'SELECT seq, message_id, sender, ts_us, text_folded FROM messages';

export class SqliteDeleter {
  private readonly select: Record<MessageTarget['kind'], Database.Statement>;
  private readonly deleteRow: Database.Statement;
  private readonly indexedThrough: Database.Statement;
  private readonly unindex: Database.Statement;
  private readonly tombstone: Database.Statement;
  private readonly subSender: Database.Statement;
  private readonly dropSender: Database.Statement;
  private readonly subHour: Database.Statement;
  private readonly subSenderDay: Database.Statement;
  private readonly subTotals: Database.Statement;
  private readonly raiseSeqFloor: Database.Statement;
  private readonly batch: Database.Transaction<(batch: DeleteBatch) => number>;

  constructor(private readonly db: Database.Database) {
    const raw = (sql: string) => db.prepare(sql).raw().safeIntegers(true);
    this.select = {
      id: raw(`${SELECT} WHERE message_id = ? LIMIT ?`),
      sender: raw(`${SELECT} WHERE sender = ? LIMIT ?`),
      'received-before': raw(`${SELECT} WHERE received_at < ? LIMIT ?`),
    };
    this.deleteRow = db.prepare('DELETE FROM messages WHERE seq = ?');
    this.indexedThrough = db
      .prepare('SELECT indexed_through FROM search_index WHERE id = 1')
      .pluck()
      .safeIntegers(true);
    // contentless_delete=1 (migration 007): a row is forgotten by its rowid alone
    this.unindex = db.prepare('DELETE FROM messages_search WHERE rowid = ?');
    this.tombstone = db.prepare(
      'INSERT INTO erased_messages (message_id) VALUES (?) ON CONFLICT DO NOTHING',
    );
    this.subSender = db
      .prepare(
        'UPDATE sender_counts SET messages = messages - ? WHERE sender = ? RETURNING messages',
      )
      .pluck();
    this.dropSender = db.prepare('DELETE FROM sender_counts WHERE sender = ? AND messages = 0');
    this.subHour = db.prepare('UPDATE hour_counts SET messages = messages - ? WHERE hour = ?');
    this.subSenderDay = db.prepare(
      `UPDATE sender_day_counts SET messages = messages - ? WHERE sender = ? AND day = ?`,
    );
    this.subTotals = db.prepare(
      'UPDATE message_totals SET messages = messages - ?, senders = senders - ? WHERE id = 1',
    );
    this.raiseSeqFloor = db.prepare('UPDATE message_seq SET floor = max(floor, ?) WHERE id = 1');
    const dropHour = db.prepare('DELETE FROM hour_counts WHERE hour = ? AND messages = 0');
    const dropSenderDay = db.prepare(
      'DELETE FROM sender_day_counts WHERE sender = ? AND day = ? AND messages = 0',
    );

    this.batch = db.transaction((batch: DeleteBatch): number => {
      const { limit } = batch;
      const target = batch.target as MessageTarget;
      const key =
        target.kind === 'id'
          ? target.messageId
          : target.kind === 'sender'
            ? target.from
            : target.before;
      const rows = this.select[target.kind].all(key, limit) as Doomed[];
      if (rows.length === 0) return 0;
      const indexed = this.indexedThrough.get() as bigint;
      const senders = new Map<string, number>();
      const hours = new Map<bigint, number>();
      const senderDays = new Map<string, { sender: string; day: bigint; count: number }>();
      let highest = 0n;
      for (const [seq, messageId, sender, tsUs, folded] of rows) {
        this.deleteRow.run(seq);
        if (folded !== null && seq <= indexed) this.unindex.run(seq);
        if (batch.tombstone) this.tombstone.run(messageId);
        if (seq > highest) highest = seq;
        senders.set(sender, (senders.get(sender) ?? 0) + 1);
        const hour = hourOf(tsUs);
        hours.set(hour, (hours.get(hour) ?? 0) + 1);
        const day = dayOf(tsUs);
        const dayKey = `${day} ${sender}`;
        const counted = senderDays.get(dayKey) ?? { sender, day, count: 0 };
        counted.count++;
        senderDays.set(dayKey, counted);
      }
      let goneSenders = 0;
      for (const [sender, count] of senders) {
        if (this.subSender.get(count, sender) === 0) {
          this.dropSender.run(sender);
          goneSenders++;
        }
      }
      for (const [hour, count] of hours) {
        this.subHour.run(count, hour);
        dropHour.run(hour);
      }
      for (const { sender, day, count } of senderDays.values()) {
        this.subSenderDay.run(count, sender, day);
        dropSenderDay.run(sender, day);
      }
      this.subTotals.run(rows.length, goneSenders);
      this.raiseSeqFloor.run(highest);
      // kept search totals of every reader are counted again, not topped up
      bumpChangeEpoch(db);
      return rows.length;
    });
  }

  /**
   * Deletes one batch in its own transaction; returns how many messages it deleted. An erasure
   * commits to disk before it is answered (synchronous=FULL). A retention batch commits without
   * waiting for the disk (NORMAL), so that it holds the write lock for less: a power loss can
   * only take whole batches back (the next sweep deletes them again), never half of one.
   */
  delete(batch: DeleteBatch): number {
    if (batch.tombstone) return this.batch.immediate(batch);
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.batch.immediate(batch);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }
}
