import type { KeptCount } from '../count-cache.js';
import { END_OF_TIME, seeks } from '../seek.js';
import type { ListFilter, MessagePage, Page, StoredMessage } from '../store.js';
import { planTotal, type TotalPlan } from '../totals.js';
import { escapeText } from './escape.js';
import { storedMessage } from './scan.js';
import { literal, MESSAGE_COLUMNS, whereClause } from './sql.js';

/**
 * GET /messages on PostgreSQL as ONE statement: the page, its total, and for a search the change
 * epoch and the snapshot the total was counted in (see ../count-cache.ts). One statement is one
 * snapshot on one pooled connection, so the page and its total agree, and a request holds one
 * connection instead of two.
 *
 * A kept search total is topped up with the rows its snapshot did not see: every such row has
 * txid >= that snapshot's xmin (an index range over recent rows) and is not visible in it. That
 * holds whatever order concurrent transactions commit in. A row whose transaction was still
 * running then is counted once it commits, never twice, never missed.
 */

/** A snapshot, as pg_current_snapshot()::text writes it: `xmin:xmax:xip,…`. */
export type Snapshot = string;

export interface ListQuery {
  text: string;
  values: unknown[];
  /**
   * whether this statement counts a search from scratch (hundreds of milliseconds for a common
   * word in a million messages; the store decides by `from` whether it is heavy)
   */
  counts: boolean;
}

/**
 * Whether any row has a txid this cluster has not reached: rows restored from another cluster
 * (pg_dump, then pg_restore) keep the numbers their first cluster gave them. Every row a snapshot
 * sees was committed before it, so a genuine txid is below the snapshot's xmax; a row at or above
 * it would look to a kept total like a row committed later, and be counted twice. While there is
 * one, search totals are counted from scratch and not kept. The highest txid is one step of an
 * index (messages_by_txid), whatever the table holds.
 */
const AHEAD = `coalesce((SELECT max(txid) FROM messages)
  >= pg_snapshot_xmax(pg_current_snapshot()), false)`;

function snapshotXmin(snapshot: Snapshot): string {
  const xmin = snapshot.split(':')[0] ?? '';
  if (!/^[0-9]+$/.test(xmin)) throw new TypeError(`not a snapshot: ${snapshot}`);
  return xmin;
}

export function listQuery(filter: ListFilter, page: Page, kept?: KeptCount<Snapshot>): ListQuery {
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const where: string[] = [];
  if (filter.from !== undefined) where.push(`sender = ${param(filter.from)}`);
  if (filter.since !== undefined) where.push(`ts_us >= ${param(String(filter.since))}::bigint`);
  // LIKE with every special character escaped, so that the trigram index can serve it:
  // %, _ and \ in q are ordinary characters
  if (filter.q !== undefined) {
    where.push(`text_folded LIKE ${param(`%${literal(escapeText(filter.q))}%`)}`);
  }
  let total: string;
  let counts = false;
  if (filter.q === undefined) {
    total = keptTotal(planTotal(filter), param);
  } else if (kept === undefined) {
    total = `(SELECT count(*) FROM messages ${whereClause(where)})`;
    counts = true;
  } else {
    // OFFSET 0 keeps the filters out of the subquery: the rows are found through the txid
    // index, never through the trigram index (which would recheck every match)
    const newer = `SELECT sender, ts_us, text_folded FROM messages
      WHERE txid >= ${param(snapshotXmin(kept.watermark))}::xid8
        AND NOT pg_visible_in_snapshot(txid, ${param(kept.watermark)}::pg_snapshot) OFFSET 0`;
    total = `CASE WHEN (SELECT epoch FROM change_epoch WHERE id = 1) = ${param(kept.epoch)}::bigint
                   AND NOT ${AHEAD}
      THEN ${param(kept.count)}::bigint
           + (SELECT count(*) FROM (${newer}) AS newer ${whereClause(where)})
      ELSE (SELECT count(*) FROM messages ${whereClause(where)}) END`;
  }
  const desc = page.order === 'desc';
  if (page.after !== undefined) {
    where.push(
      `(ts_us, message_id) ${desc ? '<' : '>'} (${param(String(page.after.instant))}::bigint, ` +
        `${param(escapeText(page.after.messageId))}::text COLLATE "C")`,
    );
  }
  let offset = `${param(String(page.offset))}::bigint`;
  let seek = '';
  // the seek counts periods from the oldest: newest-first pages skip their offset as it is
  if (filter.q === undefined && !desc && seeks(page)) {
    // see ../seek.ts: the first period the offset does not skip whole, in this snapshot
    seek = `WITH seek AS MATERIALIZED (
      SELECT start_us, (through - messages)::bigint AS skipped
      FROM (SELECT start_us, messages, sum(messages) OVER (ORDER BY start_us) AS through
            FROM (${periods(planTotal(filter), param)}) AS periods) AS running
      WHERE through > ${offset} ORDER BY start_us LIMIT 1)`;
    where.push(`ts_us >= coalesce((SELECT start_us FROM seek), ${END_OF_TIME}::bigint)`);
    offset = `(${offset} - coalesce((SELECT skipped FROM seek), 0))`;
  }
  const text = `${seek}
    SELECT head.epoch, head.snapshot, head.ahead, head.total, rows.*
    FROM (SELECT (SELECT epoch FROM change_epoch WHERE id = 1) AS epoch,
                 pg_current_snapshot()::text AS snapshot,
                 ${filter.q === undefined ? 'false' : AHEAD} AS ahead,
                 ${total} AS total) AS head
    LEFT JOIN LATERAL (
      SELECT ${MESSAGE_COLUMNS}, ts_us FROM messages
      ${whereClause(where)}
      ORDER BY ${desc ? 'ts_us DESC, message_id DESC' : 'ts_us, message_id'}
      LIMIT ${param(page.limit + 1)}::integer OFFSET ${offset}
    ) AS rows ON true
    ORDER BY ${desc ? 'rows.ts_us DESC, rows.message_id DESC' : 'rows.ts_us, rows.message_id'}`;
  return { text, values, counts };
}

/** A total from the kept per-sender, per-hour and per-sender-day counts (see ../totals.ts). */
function keptTotal(plan: TotalPlan, param: (value: unknown) => string): string {
  switch (plan.kind) {
    case 'all':
      return '(SELECT messages FROM message_totals WHERE id = 1)';
    case 'sender':
      return `coalesce((SELECT messages FROM sender_counts WHERE sender = ${param(plan.from)}), 0)`;
    case 'since':
      return `(SELECT coalesce(sum(messages), 0) FROM hour_counts
               WHERE hour > ${param(String(plan.period))}::bigint)
            + (SELECT count(*) FROM messages WHERE ts_us >= ${param(String(plan.since))}::bigint
               AND ts_us < ${param(String(plan.end))}::bigint)`;
    case 'sender-since': {
      const from = param(plan.from);
      return `(SELECT coalesce(sum(messages), 0) FROM sender_day_counts
               WHERE sender = ${from} AND day > ${param(String(plan.period))}::bigint)
            + (SELECT count(*) FROM messages WHERE sender = ${from}
               AND ts_us >= ${param(String(plan.since))}::bigint
               AND ts_us < ${param(String(plan.end))}::bigint)`;
    }
  }
}

/** The periods of the kept totals a deep page of `plan` seeks through (see ../seek.ts). */
function periods(plan: TotalPlan, param: (value: unknown) => string): string {
  const hours = 'SELECT hour * 3600000000 AS start_us, messages FROM hour_counts';
  switch (plan.kind) {
    case 'all':
      return hours;
    case 'since': {
      const since = param(String(plan.since));
      return `SELECT ${since}::bigint AS start_us,
                     (SELECT count(*) FROM messages WHERE ts_us >= ${since}::bigint
                      AND ts_us < ${param(String(plan.end))}::bigint) AS messages
              UNION ALL ${hours} WHERE hour > ${param(String(plan.period))}::bigint`;
    }
    case 'sender':
      return `SELECT day * 86400000000 AS start_us, messages FROM sender_day_counts
              WHERE sender = ${param(plan.from)}`;
    case 'sender-since': {
      const from = param(plan.from);
      const since = param(String(plan.since));
      return `SELECT ${since}::bigint AS start_us,
                     (SELECT count(*) FROM messages WHERE sender = ${from}
                      AND ts_us >= ${since}::bigint
                      AND ts_us < ${param(String(plan.end))}::bigint) AS messages
              UNION ALL SELECT day * 86400000000, messages FROM sender_day_counts
              WHERE sender = ${from} AND day > ${param(String(plan.period))}::bigint`;
    }
  }
}

/** A row of listQuery's answer: the head's figures, and a message unless the page is empty. */
export type ListedRow = StoredMessage & {
  epoch: string;
  snapshot: string;
  ahead: boolean;
  total: string;
};

/** The page listQuery's rows hold, and for a search the total to keep (see ../count-cache.ts). */
export function pageOf(
  rows: ListedRow[],
  filter: ListFilter,
  page: Page,
): MessagePage & { kept?: KeptCount<Snapshot> } {
  const head = rows[0];
  const total = Number(head?.total ?? 0);
  const data = rows.filter((row) => row.message_id !== null).map(storedMessage);
  const more = data.length > page.limit;
  const answer: MessagePage & { kept?: KeptCount<Snapshot> } = {
    data: more ? data.slice(0, page.limit) : data,
    total,
    more,
  };
  if (filter.q !== undefined && head !== undefined && !head.ahead) {
    answer.kept = { epoch: Number(head.epoch), watermark: head.snapshot, count: total };
  }
  return answer;
}
