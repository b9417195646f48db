import type { StoredMessage } from '../message.js';
import type { Delivery, NewStatus } from '../store/store.js';
import type { ValidationIssue } from '../validation.js';
import {
  businessNumberOf,
  categoryOf,
  contactNames,
  errorsOf,
  isObject,
  replyToOf,
  textOf,
  userOf,
} from './mapping.js';

/**
 * A WhatsApp Cloud API delivery, checked and turned into what is stored:
 *
 *   {"object": "whatsapp_business_account",
 *    "entry": [{"id", "changes": [{"field", "value"}]}]}
 *
 * From each change whose field is `messages`, every `value.messages[]` item is a message and
 * every `value.statuses[]` item a delivery status. A delivery is taken whole or not at all: any
 * item that cannot be stored (no id, a timestamp that is not whole unix seconds…) refuses it,
 * with one FastAPI-style issue per problem, `loc` pointing into the body.
 */

export const WHATSAPP_OBJECT = 'whatsapp_business_account';

/** Longest id, sender or status word stored: longer values cannot be indexed on every store. */
export const MAX_KEY_CHARS = 256;

/** Latest timestamp accepted: 9999-12-31T23:59:59Z, the last second ts can spell. */
const MAX_UNIX_SECONDS = 253_402_300_799;

/** Issues reported at most; a delivery with more is refused all the same. */
export const MAX_ISSUES = 100;

export interface ParsedDelivery {
  delivery: Delivery;
  /** changes of another field than `messages`: answered 200 and counted, not stored */
  otherFields: number;
}

export type ParseResult =
  | { ok: true; value: ParsedDelivery }
  | { ok: false; issues: ValidationIssue[] };

type Loc = (string | number)[];

class Issues {
  readonly list: ValidationIssue[] = [];
  add(loc: Loc, msg: string, type: string): void {
    if (this.list.length < MAX_ISSUES) this.list.push({ loc: ['body', ...loc], msg, type });
  }
}

/** `value` as whole unix seconds (a digit string or a JSON integer) in ts form, or null. */
export function tsOfUnix(value: unknown): string | null {
  let seconds: number;
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) seconds = Number(value);
  else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) seconds = value;
  else return null;
  if (seconds > MAX_UNIX_SECONDS) return null;
  const day = Math.floor(seconds / 86_400);
  const rest = seconds - day * 86_400;
  const hour = Math.floor(rest / 3600);
  const minute = Math.floor((rest % 3600) / 60);
  return `${dateOf(day)}T${two(hour)}:${two(minute)}:${two(rest % 60)}Z`;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** YYYY-MM-DD of a day since 1970-01-01, remembered: a delivery's messages share a few days. */
const dates = new Map<number, string>();
function dateOf(day: number): string {
  let date = dates.get(day);
  if (date === undefined) {
    if (dates.size >= 4096) dates.clear();
    date = new Date(day * 86_400_000).toISOString().slice(0, 10);
    dates.set(day, date);
  }
  return date;
}

/** More than MAX_KEY_CHARS code points (a string has at most as many as UTF-16 units). */
function tooLong(value: string): boolean {
  return value.length > MAX_KEY_CHARS && [...value].length > MAX_KEY_CHARS;
}

/** A storable key: a non-empty, well-formed string of at most MAX_KEY_CHARS characters. */
function checkKey(
  value: unknown,
  at: Loc,
  key: string,
  issues: Issues,
  what: string,
): value is string {
  if (typeof value !== 'string' || value === '') {
    issues.add(
      [...at, key],
      `${what} is required: a non-empty string`,
      value === undefined ? 'missing' : 'string_type',
    );
    return false;
  }
  if (!value.isWellFormed() || tooLong(value)) {
    issues.add(
      [...at, key],
      `${what} must be Unicode text of at most ${MAX_KEY_CHARS} characters`,
      'string_too_long',
    );
    return false;
  }
  return true;
}

function checkTimestamp(value: unknown, at: Loc, issues: Issues): string | null {
  const ts = tsOfUnix(value);
  if (ts === null) {
    issues.add(
      [...at, 'timestamp'],
      'timestamp must be whole unix seconds, as a digit string or a JSON integer',
      value === undefined ? 'missing' : 'timestamp_invalid',
    );
  }
  return ts;
}

function checkUser(value: string | null, at: Loc, key: string, issues: Issues): string {
  if (value !== null && (!value.isWellFormed() || tooLong(value))) {
    issues.add(
      [...at, key],
      `must be Unicode text of at most ${MAX_KEY_CHARS} characters`,
      'string_too_long',
    );
  }
  return value ?? '';
}

function arrayAt(value: Record<string, unknown>, key: string, loc: Loc, issues: Issues): unknown[] {
  const found = value[key];
  if (found === undefined || found === null) return [];
  if (!Array.isArray(found)) {
    issues.add([...loc, key], 'must be an array', 'list_type');
    return [];
  }
  return found;
}

function parseMessage(
  item: unknown,
  loc: Loc,
  contactNameOf: (item: Record<string, unknown>) => string | null,
  to: string,
  receivedAt: string,
  issues: Issues,
): Delivery['messages'][number] | null {
  if (!isObject(item)) {
    issues.add(loc, 'a message must be an object', 'dict_type');
    return null;
  }
  const idOk = checkKey(item.id, loc, 'id', issues, 'id');
  const ts = checkTimestamp(item.timestamp, loc, issues);
  const from = checkUser(userOf(item.from, item.from_user_id), loc, 'from', issues);
  if (!idOk || ts === null) return null;
  const message: StoredMessage = {
    message_id: item.id as string,
    from,
    to,
    ts,
    text: textOf(item),
  };
  return {
    message,
    details: {
      source: 'whatsapp',
      type: typeof item.type === 'string' ? item.type : null,
      contact_name: contactNameOf(item),
      reply_to: replyToOf(item),
      received_at: receivedAt,
      payload: JSON.stringify(item),
    },
  };
}

function parseStatus(
  item: unknown,
  loc: Loc,
  receivedAt: string,
  issues: Issues,
): NewStatus | null {
  if (!isObject(item)) {
    issues.add(loc, 'a status must be an object', 'dict_type');
    return null;
  }
  const idOk = checkKey(item.id, loc, 'id', issues, 'id');
  const statusOk = checkKey(item.status, loc, 'status', issues, 'status');
  const ts = checkTimestamp(item.timestamp, loc, issues);
  const recipient = checkUser(
    userOf(item.recipient_id, item.recipient_user_id),
    loc,
    'recipient_id',
    issues,
  );
  if (!idOk || !statusOk || ts === null) return null;
  return {
    message_id: item.id as string,
    status: item.status as string,
    ts,
    recipient,
    errors: errorsOf(item),
    category: categoryOf(item),
    received_at: receivedAt,
  };
}

function parseChange(
  change: unknown,
  loc: Loc,
  receivedAt: string,
  delivery: Delivery,
  issues: Issues,
): 'messages' | 'other' | null {
  if (!isObject(change)) {
    issues.add(loc, 'a change must be an object', 'dict_type');
    return null;
  }
  if (typeof change.field !== 'string') {
    issues.add([...loc, 'field'], 'field is required: a string', 'missing');
    return null;
  }
  if (!('value' in change)) {
    issues.add([...loc, 'value'], 'value is required', 'missing');
    return null;
  }
  if (change.field !== 'messages') return 'other';
  const value = change.value;
  const valueLoc: Loc = [...loc, 'value'];
  if (!isObject(value)) {
    issues.add(valueLoc, 'value must be an object', 'dict_type');
    return null;
  }
  const items = arrayAt(value, 'messages', valueLoc, issues);
  const to =
    items.length === 0
      ? ''
      : checkUser(
          businessNumberOf(value),
          [...valueLoc, 'metadata'],
          'display_phone_number',
          issues,
        );
  const contactNameOf = contactNames(value.contacts);
  for (const [i, item] of items.entries()) {
    const loc = [...valueLoc, 'messages', i];
    const parsed = parseMessage(item, loc, contactNameOf, to, receivedAt, issues);
    if (parsed !== null) delivery.messages.push(parsed);
  }
  for (const [i, item] of arrayAt(value, 'statuses', valueLoc, issues).entries()) {
    const parsed = parseStatus(item, [...valueLoc, 'statuses', i], receivedAt, issues);
    if (parsed !== null) delivery.statuses.push(parsed);
  }
  return 'messages';
}

/** Checks a parsed body and returns what to store, or every problem found. */
export function parseDelivery(body: unknown, receivedAt: string): ParseResult {
  const issues = new Issues();
  const delivery: Delivery = { messages: [], statuses: [] };
  let otherFields = 0;
  if (!isObject(body)) {
    issues.add([], 'Input should be a valid dictionary', 'dict_type');
    return { ok: false, issues: issues.list };
  }
  if (body.object !== WHATSAPP_OBJECT) {
    const type = body.object === undefined ? 'missing' : 'literal_error';
    issues.add(['object'], `object must be "${WHATSAPP_OBJECT}"`, type);
  }
  if (!Array.isArray(body.entry)) {
    const type = body.entry === undefined ? 'missing' : 'list_type';
    issues.add(['entry'], 'entry must be an array', type);
    return { ok: false, issues: issues.list };
  }
  for (const [e, entry] of body.entry.entries()) {
    const entryLoc: Loc = ['entry', e];
    if (!isObject(entry)) {
      issues.add(entryLoc, 'an entry must be an object', 'dict_type');
      continue;
    }
    if (typeof entry.id !== 'string' && typeof entry.id !== 'number') {
      issues.add([...entryLoc, 'id'], 'id is required: the business account id', 'missing');
    }
    if (!Array.isArray(entry.changes)) {
      const type = entry.changes === undefined ? 'missing' : 'list_type';
      issues.add([...entryLoc, 'changes'], 'changes must be an array', type);
      continue;
    }
    for (const [c, change] of entry.changes.entries()) {
      const kind = parseChange(change, [...entryLoc, 'changes', c], receivedAt, delivery, issues);
      if (kind === 'other') otherFields++;
    }
  }
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: { delivery, otherFields } };
}
