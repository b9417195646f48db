import type Database from 'better-sqlite3';
import {
  type DayCount,
  dayName,
  type StatusFilter,
  type StatusPage,
  type StatusPageRequest,
  type StatusRecord,
  type StatusStats,
  TOP_FAILURES,
  USUAL_STATUSES,
} from '../records.js';

/**
 * The queries of GET /statuses, /stats/statuses and /stats/daily on one SQLite connection; the
 * reader (reader.ts) runs each in a read transaction.
 */

type StatusRow = Omit<StatusRecord, 'errors'> & { errors: string };

export class SqliteStatusReader {
  constructor(private readonly statement: (sql: string) => Database.Statement) {}

  private one(sql: string, ...values: unknown[]): number {
    return (
      (this.statement(sql)
        .pluck()
        .get(...values) as number | null | undefined) ?? 0
    );
  }

  listStatuses(filter: StatusFilter, page: StatusPageRequest): StatusPage {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.message_id !== undefined) {
      where.push('message_id = ?');
      params.push(filter.message_id);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.since !== undefined) {
      where.push('ts_us >= ?');
      params.push(filter.since);
    }
    const clause = (conditions: string[]) =>
      conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    // the kept counts answer the totals without a filter or with a status only; a message's
    // statuses are a few rows; `since` counts an index range
    const total =
      where.length === 0
        ? this.one('SELECT sum(statuses) FROM status_counts')
        : filter.message_id === undefined && filter.since === undefined
          ? this.one('SELECT statuses FROM status_counts WHERE status = ?', filter.status)
          : this.one(`SELECT count(*) FROM statuses ${clause(where)}`, ...params);
    if (page.after !== undefined) {
      where.push('(ts_us, message_id, status) > (?, ?, ?)');
      params.push(page.after.instant, page.after.messageId, page.after.status);
    }
    const rows = this.statement(
      `SELECT message_id, status, ts, recipient, errors, category FROM statuses
       ${clause(where)} ORDER BY ts_us, message_id, status LIMIT ? OFFSET ?`,
    ).all(...params, page.limit + 1, page.offset) as StatusRow[];
    const more = rows.length > page.limit;
    const data = (more ? rows.slice(0, page.limit) : rows).map((row) => ({
      ...row,
      errors: JSON.parse(row.errors) as StatusRecord['errors'],
    }));
    return { data, total, more };
  }

  statusStats(): StatusStats {
    const by_status: Record<string, number> = {};
    for (const status of USUAL_STATUSES) by_status[status] = 0;
    const counts = this.statement(
      'SELECT status, statuses FROM status_counts WHERE statuses > 0 ORDER BY status',
    ).all() as { status: string; statuses: number }[];
    for (const { status, statuses } of counts) by_status[status] = statuses;
    const failures = this.statement(
      `SELECT code, title, failures AS count FROM failure_counts WHERE failures > 0
       ORDER BY failures DESC, code ASC LIMIT ?`,
    ).all(TOP_FAILURES) as StatusStats['failures'];
    return { by_status, failures };
  }

  dailyCounts(days: number, from?: string): DayCount[] {
    // The `days` most recent days with messages hold at most 24 × days hours with messages:
    // those are among the latest 24 × days rows of hour_counts, so no more are read.
    const rows = (
      from === undefined
        ? this.statement(
            `SELECT day, sum(messages) AS count FROM (
               SELECT hour / 24 - (hour < 0 AND hour % 24 != 0) AS day, messages
               FROM hour_counts WHERE messages > 0 ORDER BY hour DESC LIMIT ?)
             GROUP BY day ORDER BY day DESC LIMIT ?`,
          ).all(days * 24, days)
        : this.statement(
            `SELECT day, messages AS count FROM sender_day_counts
             WHERE sender = ? AND messages > 0 ORDER BY day DESC LIMIT ?`,
          ).all(from, days)
    ) as { day: number; count: number }[];
    return rows.reverse().map(({ day, count }) => ({ day: dayName(day), count }));
  }
}
