import type Database from 'better-sqlite3';
import { fold } from '../fold.js';
import { dayOf, hourOf, MICROS_PER_DAY, MICROS_PER_HOUR, parseInstant } from '../instant.js';
import { SqliteSearch } from './sqlite-search.js';
import type { ListFilter, MessagePage, Page, Stats, StoredMessage } from './store.js';

/**
 * The queries of GET /messages and GET /stats, on one SQLite connection. Each runs on one
 * consistent snapshot (a read transaction), so a page and its total always agree. A file
 * database runs these in reader threads (sqlite-reader-worker.ts), so that a long search never
 * holds up the event loop; `:memory:` runs them inline.
 */
export class SqliteReader {
  private readonly queries = new Map<string, Database.Statement>();
  private readonly search: SqliteSearch;
  private readonly snapshot: <T>(read: () => T) => T;

  constructor(private readonly db: Database.Database) {
    this.search = new SqliteSearch((sql) => this.statement(sql));
    const readTransaction = db.transaction((read: () => unknown) => read());
    this.snapshot = <T>(read: () => T) => readTransaction(read) as T;
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

  list(filter: ListFilter, page: Page): MessagePage {
    return this.snapshot(() => {
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

  stats(): Stats {
    return this.snapshot(() => {
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
}
