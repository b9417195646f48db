import type Database from 'better-sqlite3';
import type { Position } from '../../cursor.js';
import { type KeptCount, topUp } from '../count-cache.js';
import { type Period, type Seek, seek, seeks } from '../seek.js';
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

/** A page, and for a search the total as it may be kept (see ../count-cache.ts). */
export interface ListAnswer extends MessagePage {
  kept?: KeptCount<number>;
}

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

  /** `rangeRows`: see search.ts (tests set it to take one plan or the other) */
  constructor(
    private readonly db: Database.Database,
    rangeRows?: number,
  ) {
    this.search = new SqliteSearch((sql) => this.statement(sql), rangeRows);
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

  /** `kept`: the search total kept for this filter, if any; topped up or counted again. */
  list(filter: ListFilter, page: Page, kept?: KeptCount<number>): ListAnswer {
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
      const filtered = this.keptTotal(filter);
      const counted =
        q === undefined ? undefined : this.searchTotal(q, filtered, where, params, kept);
      const total = counted?.count ?? filtered;
      const desc = page.order === 'desc';
      if (page.after !== undefined) {
        where.push(`(ts_us, message_id) ${desc ? '<' : '>'} (?, ?)`);
        params.push(page.after.instant, page.after.messageId);
      }
      let offset = page.offset;
      // the seek counts hours from the oldest: newest-first pages skip their offset as it is
      if (q === undefined && !desc && seeks(page)) {
        const start = this.seek(filter, page.offset);
        where.push('ts_us >= ?');
        params.push(start.start);
        offset = start.offset;
      }
      const rows =
        q === undefined
          ? (this.statement(
              `SELECT message_id, sender AS "from", recipient AS "to", ts, text FROM messages
               ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
               ORDER BY ${desc ? 'ts_us DESC, message_id DESC' : 'ts_us, message_id'}
               LIMIT ? OFFSET ?`,
            ).all(...params, page.limit + 1, offset) as StoredMessage[])
          : this.search.page(q, { total, kept: filtered }, where, params, {
              limit: page.limit + 1,
              offset: page.offset,
              desc,
            });
      const more = rows.length > page.limit;
      const answer: ListAnswer = { data: more ? rows.slice(0, page.limit) : rows, total, more };
      if (counted !== undefined) answer.kept = counted;
      return answer;
    });
  }

  /** See Store.scan: a keyset walk in list order; `q` is checked row by row as the walk goes. */
  scan(filter: ListFilter, after: Position | undefined, limit: number): StoredMessage[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.from !== undefined) {
      where.push('sender = ?');
      params.push(filter.from);
    }
    if (filter.since !== undefined) {
      where.push('ts_us >= ?');
      params.push(filter.since);
    }
    if (filter.q !== undefined) {
      where.push('instr(text_folded, ?) > 0');
      params.push(filter.q);
    }
    if (after !== undefined) {
      where.push('(ts_us, message_id) > (?, ?)');
      params.push(after.instant, after.messageId);
    }
    return this.statement(
      `SELECT message_id, sender AS "from", recipient AS "to", ts, text FROM messages
       ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
       ORDER BY ts_us, message_id LIMIT ?`,
    ).all(...params, limit) as StoredMessage[];
  }

  /**
   * The search total: `kept` topped up with the rows after its watermark (seq), or counted. Runs
   * inside the list's snapshot, where max(seq) bounds every row counted.
   */
  private searchTotal(
    q: string,
    filtered: number,
    where: string[],
    params: unknown[],
    kept: KeptCount<number> | undefined,
  ): KeptCount<number> {
    const now = this.statement(
      `SELECT (SELECT epoch FROM change_epoch WHERE id = 1) AS epoch,
              (SELECT coalesce(max(seq), 0) FROM messages) AS watermark`,
    ).get() as { epoch: number; watermark: number };
    const { epoch, watermark, count } = topUp(kept, now, {
      all: () => this.search.count(q, filtered, where, params),
      after: (seq) => this.search.countAfter(seq, q, where, params),
    });
    return { epoch, watermark, count };
  }

  /** Where a deep page of a filter without `q` starts (see ../seek.ts), in this snapshot. */
  private seek(filter: ListFilter, offset: number): Seek {
    const plan = planTotal(filter);
    const periods = (sql: string, ...values: unknown[]): Period[] =>
      (this.statement(sql).all(...values) as { start: number; messages: number }[]).map((row) => ({
        start: BigInt(row.start),
        messages: row.messages,
      }));
    const partial = (sql: string, start: bigint, ...values: unknown[]): Period[] => [
      {
        start,
        messages: this.statement(sql)
          .pluck()
          .get(...values) as number,
      },
    ];
    switch (plan.kind) {
      case 'all':
        return seek(
          periods('SELECT hour * 3600000000 AS start, messages FROM hour_counts ORDER BY hour'),
          offset,
        );
      case 'since':
        return seek(
          [
            ...partial(
              'SELECT count(*) FROM messages WHERE ts_us >= ? AND ts_us < ?',
              plan.since,
              plan.since,
              plan.end,
            ),
            ...periods(
              `SELECT hour * 3600000000 AS start, messages FROM hour_counts
               WHERE hour > ? ORDER BY hour`,
              plan.period,
            ),
          ],
          offset,
        );
      case 'sender':
        return seek(
          periods(
            `SELECT day * 86400000000 AS start, messages FROM sender_day_counts
             WHERE sender = ? ORDER BY day`,
            plan.from,
          ),
          offset,
        );
      case 'sender-since':
        return seek(
          [
            ...partial(
              'SELECT count(*) FROM messages WHERE sender = ? AND ts_us >= ? AND ts_us < ?',
              plan.since,
              plan.from,
              plan.since,
              plan.end,
            ),
            ...periods(
              `SELECT day * 86400000000 AS start, messages FROM sender_day_counts
               WHERE sender = ? AND day > ? ORDER BY day`,
              plan.from,
              plan.period,
            ),
          ],
          offset,
        );
    }
  }

  /** Messages the filter's `from` and `since` keep, from the totals kept (see totals.ts). */
  keptTotal(filter: Pick<ListFilter, 'from' | 'since'>): number {
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
