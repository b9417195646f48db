import type Database from 'better-sqlite3';
import {
  type DayCount,
  type ListFilter,
  type MessagePage,
  type MessageRecord,
  type Page,
  type Stats,
  type StatusFilter,
  type StatusPage,
  type StatusPageRequest,
  type StatusStats,
  type StoredMessage,
  TOP_SENDERS,
} from '../store.js';
import { planTotal } from '../totals.js';
import { SqliteSearch } from './search.js';
import { SqliteStatusReader } from './status-reader.js';

/**
 * The queries of GET /messages and GET /stats, on one SQLite connection. Each runs on one
 * consistent snapshot (a read transaction), so a page and its total always agree. A file
 * database runs these in reader threads (reader-thread.ts), so that a long search never
 * holds up the event loop; `:memory:` runs them inline.
 */
export class SqliteReader {
  private readonly queries = new Map<string, Database.Statement>();
  private readonly search: SqliteSearch;
  private readonly statuses: SqliteStatusReader;
  private readonly snapshot: <T>(read: () => T) => T;

  constructor(private readonly db: Database.Database) {
    this.search = new SqliteSearch((sql) => this.statement(sql));
    this.statuses = new SqliteStatusReader((sql) => this.statement(sql));
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
      const { from, since, q } = filter;
      const where: string[] = [];
      const params: unknown[] = [];
      if (from !== undefined) {
        where.push('sender = ?');
        params.push(from);
      }
      if (since !== undefined) {
        where.push('ts_us >= ?');
        params.push(since);
      }
      const kept = this.count(filter);
      const total = q === undefined ? kept : this.search.count(q, where, params);
      const desc = page.order === 'desc';
      if (page.after !== undefined) {
        where.push(`(ts_us, message_id) ${desc ? '<' : '>'} (?, ?)`);
        params.push(page.after.instant, page.after.messageId);
      }
      const rows =
        q === undefined
          ? (this.statement(
              `SELECT message_id, sender AS "from", recipient AS "to", ts, text FROM messages
               ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
               ORDER BY ${desc ? 'ts_us DESC, message_id DESC' : 'ts_us, message_id'}
               LIMIT ? OFFSET ?`,
            ).all(...params, page.limit + 1, page.offset) as StoredMessage[])
          : this.search.page(q, { total, kept }, where, params, {
              limit: page.limit + 1,
              offset: page.offset,
              desc,
            });
      const more = rows.length > page.limit;
      return { data: more ? rows.slice(0, page.limit) : rows, total, more };
    });
  }

  /** Messages the filter's `from` and `since` keep, from the totals kept (see totals.ts). */
  private count(filter: ListFilter): number {
    const one = (sql: string, ...values: unknown[]) =>
      (this.statement(sql)
        .pluck()
        .get(...values) as number | null | undefined) ?? 0;
    const plan = planTotal(filter);
    switch (plan.kind) {
      case 'all':
        return one('SELECT messages FROM message_totals WHERE id = 1');
      case 'sender':
        return one('SELECT messages FROM sender_counts WHERE sender = ?', plan.from);
      case 'since':
        return (
          one('SELECT sum(messages) FROM hour_counts WHERE hour > ?', plan.period) +
          one('SELECT count(*) FROM messages WHERE ts_us >= ? AND ts_us < ?', plan.since, plan.end)
        );
      case 'sender-since':
        return (
          one(
            'SELECT sum(messages) FROM sender_day_counts WHERE sender = ? AND day > ?',
            plan.from,
            plan.period,
          ) +
          one(
            'SELECT count(*) FROM messages WHERE sender = ? AND ts_us >= ? AND ts_us < ?',
            plan.from,
            plan.since,
            plan.end,
          )
        );
    }
  }

  listStatuses(filter: StatusFilter, page: StatusPageRequest): StatusPage {
    return this.snapshot(() => this.statuses.listStatuses(filter, page));
  }

  statusStats(): StatusStats {
    return this.snapshot(() => this.statuses.statusStats());
  }

  dailyCounts(days: number, from?: string): DayCount[] {
    return this.statuses.dailyCounts(days, from);
  }

  get(messageId: string): MessageRecord | null {
    const row = this.statement(
      `SELECT message_id, sender AS "from", recipient AS "to", ts, text, source, type,
              contact_name, reply_to, received_at, payload
       FROM messages WHERE message_id = ?`,
    ).get(messageId) as MessageRecord | undefined;
    return row ?? null;
  }

  stats(): Stats {
    return this.snapshot(() => {
      const totals = this.statement(
        'SELECT messages, senders FROM message_totals WHERE id = 1',
      ).get() as { messages: number; senders: number };
      const perSender = this.statement(
        `SELECT sender AS "from", messages AS count FROM sender_counts
         ORDER BY messages DESC, sender ASC LIMIT ?`,
      ).all(TOP_SENDERS) as { from: string; count: number }[];
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
