import { instantOf } from './instant.js';

/**
 * The opaque `cursor` of GET /messages: the position of a message in list order, that is the
 * instant of its `ts` and its `message_id`. A page that starts at a cursor holds the messages
 * that come after that position, so deep pages cost no more than the first (keyset paging).
 *
 * On the wire it is base64url of the JSON array `[instant in microseconds as a string, id]`;
 * a cursor of the newest-first order (`order=desc`) is `["desc", instant, id]`, so that one
 * order's cursor is never taken for the other's.
 */

export interface Position {
  /** microseconds since the Unix epoch (see instant.ts) */
  instant: bigint;
  messageId: string;
}

export type Order = 'asc' | 'desc';

/** A decoded cursor: the position, and the order of the listing that handed it out. */
export interface CursorValue extends Position {
  order: Order;
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

export function encodeCursor(position: Position, order: Order = 'asc'): string {
  const fields = [String(position.instant), position.messageId];
  return Buffer.from(JSON.stringify(order === 'asc' ? fields : [order, ...fields])).toString(
    'base64url',
  );
}

/** The position a cursor names, and its order, or null when it is not one this service made. */
export function decodeCursor(cursor: string): CursorValue | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  let order: Order = 'asc';
  if (value.length === 3 && value[0] === 'desc') {
    order = 'desc';
    value = value.slice(1);
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [instant, messageId] = value as unknown[];
  if (typeof instant !== 'string' || !INTEGER.test(instant)) return null;
  if (typeof messageId !== 'string' || messageId === '' || !messageId.isWellFormed()) return null;
  return { instant: BigInt(instant), messageId, order };
}

/** The position of a stored message, from its ts as sent. */
export function positionOf(message: { ts: string; message_id: string }): Position {
  return { instant: instantOf(message.ts), messageId: message.message_id };
}

/**
 * The `cursor` of GET /statuses: base64url of `[instant in microseconds, message_id, status]`,
 * the position of a status in (ts, message_id, status) order.
 */
export function encodeStatusCursor(position: {
  instant: bigint;
  messageId: string;
  status: string;
}): string {
  return Buffer.from(
    JSON.stringify([String(position.instant), position.messageId, position.status]),
  ).toString('base64url');
}

export function decodeStatusCursor(
  cursor: string,
): { instant: bigint; messageId: string; status: string } | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 3) return null;
  const [instant, messageId, status] = value as unknown[];
  if (typeof instant !== 'string' || !INTEGER.test(instant)) return null;
  if (typeof messageId !== 'string' || messageId === '' || !messageId.isWellFormed()) return null;
  if (typeof status !== 'string' || status === '' || !status.isWellFormed()) return null;
  return { instant: BigInt(instant), messageId, status };
}
