import {
  type DayCount,
  dayName,
  type MessageRecord,
  type StatusFilter,
  type StatusPage,
  type StatusPageRequest,
  type StatusRecord,
  type StatusStats,
  TOP_FAILURES,
  USUAL_STATUSES,
} from '../records.js';
import { escapeText, unescapeText } from './escape.js';
import { RECORD_SQL, whereClause } from './sql.js';

/**
 * The reads of GET /messages/{message_id}, /statuses, /stats/statuses and /stats/daily on
 * PostgreSQL.
 */

type Query = <R extends object>(config: {
  name?: string;
  text: string;
  values: unknown[];
}) => Promise<{ rows: R[] }>;

const read = (value: string | null): string | null => (value === null ? null : unescapeText(value));

export async function getMessage(query: Query, messageId: string): Promise<MessageRecord | null> {
  const { rows } = await query<MessageRecord>({
    name: 'get-message',
    text: RECORD_SQL,
    values: [escapeText(messageId)],
  });
  const row = rows[0];
  if (row === undefined) return null;
  return {
    ...row,
    message_id: unescapeText(row.message_id),
    text: read(row.text),
    type: read(row.type),
    contact_name: read(row.contact_name),
    reply_to: read(row.reply_to),
    payload: read(row.payload),
  };
}

export async function listStatuses(
  query: Query,
  filter: StatusFilter,
  page: StatusPageRequest,
): Promise<StatusPage> {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.message_id !== undefined) {
    where.push(`message_id = ${param(escapeText(filter.message_id))}`);
  }
  if (filter.status !== undefined) where.push(`status = ${param(escapeText(filter.status))}`);
  if (filter.since !== undefined) where.push(`ts_us >= ${param(String(filter.since))}::bigint`);
  // the kept counts answer the totals without a filter or with a status only
  const counting =
    where.length === 0
      ? { text: 'SELECT coalesce(sum(statuses), 0)::bigint AS n FROM status_counts', values: [] }
      : filter.message_id === undefined && filter.since === undefined
        ? { text: 'SELECT statuses AS n FROM status_counts WHERE status = $1', values: [...values] }
        : { text: `SELECT count(*) AS n FROM statuses ${whereClause(where)}`, values: [...values] };
  if (page.after !== undefined) {
    where.push(
      `(ts_us, message_id, status) > (${param(String(page.after.instant))}::bigint, ` +
        `${param(escapeText(page.after.messageId))}::text COLLATE "C", ` +
        `${param(escapeText(page.after.status))}::text COLLATE "C")`,
    );
  }
  const pageSql = `
    SELECT message_id, status, ts, recipient, errors, category FROM statuses
    ${whereClause(where)}
    ORDER BY ts_us, message_id, status
    LIMIT ${param(page.limit + 1)}::integer OFFSET ${param(String(page.offset))}::bigint`;
  const [counted, listed] = await Promise.all([
    query<{ n: string | null }>(counting),
    query<Omit<StatusRecord, 'errors'> & { errors: string }>({ text: pageSql, values }),
  ]);
  const rows = listed.rows.map(
    (row): StatusRecord => ({
      message_id: unescapeText(row.message_id),
      status: unescapeText(row.status),
      ts: row.ts,
      recipient: unescapeText(row.recipient),
      errors: JSON.parse(row.errors) as StatusRecord['errors'],
      category: read(row.category),
    }),
  );
  const more = rows.length > page.limit;
  return {
    data: more ? rows.slice(0, page.limit) : rows,
    total: Number(counted.rows[0]?.n ?? 0),
    more,
  };
}

/** One statement: one snapshot. */
const STATUS_STATS_SQL = `
  SELECT
    (SELECT coalesce(json_agg(json_build_array(status, statuses) ORDER BY status), '[]'::json)
       FROM status_counts WHERE statuses > 0) AS by_status,
    (SELECT coalesce(json_agg(json_build_array(code, title, failures)
                              ORDER BY failures DESC, code ASC), '[]'::json)
       FROM (SELECT code, title, failures FROM failure_counts WHERE failures > 0
             ORDER BY failures DESC, code ASC LIMIT ${TOP_FAILURES}) AS top) AS failures`;

export async function statusStats(query: Query): Promise<StatusStats> {
  const { rows } = await query<{
    by_status: [string, number][];
    failures: [number, string | null, number][];
  }>({ name: 'status-stats', text: STATUS_STATS_SQL, values: [] });
  const by_status: Record<string, number> = {};
  for (const status of USUAL_STATUSES) by_status[status] = 0;
  for (const [status, count] of rows[0]?.by_status ?? []) {
    by_status[unescapeText(status)] = Number(count);
  }
  const failures = (rows[0]?.failures ?? []).map(([code, title, count]) => ({
    code: Number(code),
    title: read(title),
    count: Number(count),
  }));
  return { by_status, failures };
}

/**
 * The `days` most recent days with messages hold at most 24 × days hours with messages: those
 * are among the latest 24 × days rows of hour_counts, so no more are read.
 */
const DAILY_SQL = `
  SELECT day, sum(messages)::bigint AS count FROM (
    SELECT floor(hour::numeric / 24)::bigint AS day, messages FROM hour_counts
    WHERE messages > 0 ORDER BY hour DESC LIMIT $1::integer) AS recent
  GROUP BY day ORDER BY day DESC LIMIT $2::integer`;

const SENDER_DAILY_SQL = `
  SELECT day, messages AS count FROM sender_day_counts
  WHERE sender = $1 AND messages > 0 ORDER BY day DESC LIMIT $2::integer`;

export async function dailyCounts(query: Query, days: number, from?: string): Promise<DayCount[]> {
  const { rows } = await query<{ day: string; count: string }>(
    from === undefined
      ? { name: 'daily', text: DAILY_SQL, values: [days * 24, days] }
      : { name: 'sender-daily', text: SENDER_DAILY_SQL, values: [from, days] },
  );
  return rows
    .reverse()
    .map(({ day, count }) => ({ day: dayName(Number(day)), count: Number(count) }));
}
