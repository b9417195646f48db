import type { Position } from '../../cursor.js';
import type { ListFilter, StoredMessage } from '../store.js';
import { escapeText, unescapeText } from './escape.js';
import { literal, MESSAGE_COLUMNS, whereClause } from './sql.js';

/** A statement and its parameters. */
export interface Query {
  text: string;
  values: unknown[];
}

/** The statement of Store.scan on PostgreSQL: a keyset read in list order, no total. */
export function scanQuery(filter: ListFilter, after: Position | undefined, limit: number): Query {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.from !== undefined) where.push(`sender = ${param(filter.from)}`);
  if (filter.since !== undefined) where.push(`ts_us >= ${param(String(filter.since))}::bigint`);
  if (filter.q !== undefined) {
    where.push(`text_folded LIKE ${param(`%${literal(escapeText(filter.q))}%`)}`);
  }
  if (after !== undefined) {
    where.push(
      `(ts_us, message_id) > (${param(String(after.instant))}::bigint, ` +
        `${param(escapeText(after.messageId))}::text COLLATE "C")`,
    );
  }
  return {
    text: `SELECT ${MESSAGE_COLUMNS} FROM messages ${whereClause(where)}
           ORDER BY ts_us, message_id LIMIT ${param(limit)}::integer`,
    values,
  };
}

/** A row as read, with message_id and text unescaped. */
export function storedMessage(row: StoredMessage): StoredMessage {
  return {
    message_id: unescapeText(row.message_id),
    from: row.from,
    to: row.to,
    ts: row.ts,
    text: row.text === null ? null : unescapeText(row.text),
  };
}
