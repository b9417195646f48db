/**
 * Unique valid messages for load runs, and what a stored copy of one must look like.
 */
import { randomBytes } from 'node:crypto';
import type { Message, StoredMessage } from '../../src/message.js';
import { sign } from '../../src/signature.js';

export type { Message, StoredMessage };

const SENDERS = [
  '+919876543210',
  '+14155550100',
  '+447700900123',
  '+5511912345678',
  '+61412345678',
];
const PIECES = [
  'hello',
  'Héllo',
  'ΣΊΣΥΦΟΣ',
  '😀',
  '\u200f',
  'שלום',
  '\u0000',
  '%_\\',
  ' ',
  '"q"',
  '日本',
];

/** a number in [0, 1): Math.random, or a seeded generator so that a run can be replayed */
export type Random = () => number;

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)] as T;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A random valid ts between 2020 and 2029, sometimes with a fraction of 1 to 6 digits. */
export function randomTs(random: Random = Math.random): string {
  const date = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 10 * 365 * 86_400_000));
  const base =
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  if (random() < 0.5) return `${base}Z`;
  const digits = 1 + Math.floor(random() * 6);
  return `${base}.${String(Math.floor(random() * 10 ** digits)).padStart(digits, '0')}Z`;
}

function randomText(random: Random): string | null | undefined {
  const roll = random();
  if (roll < 0.1) return undefined;
  if (roll < 0.2) return null;
  const parts: string[] = [];
  const count = 1 + Math.floor(random() * 12);
  for (let i = 0; i < count; i++) parts.push(pick(PIECES, random));
  return parts.join(' ');
}

/**
 * A fresh message whose id starts with `prefix` and is unique for this process run. With a
 * seeded `random`, the same seed gives the same messages (ids included: unique for the run).
 */
export function uniqueMessage(prefix: string, random?: Random): Message {
  const next = random ?? Math.random;
  const suffix =
    random === undefined
      ? randomBytes(6).toString('hex')
      : Array.from({ length: 12 }, () => Math.floor(random() * 16).toString(16)).join('');
  const m: Message = {
    message_id: `${prefix}-${suffix}`,
    from: pick(SENDERS, next),
    to: pick(SENDERS, next),
    ts: randomTs(next),
  };
  const text = randomText(next);
  if (text !== undefined) m.text = text;
  return m;
}

/** The stored form of a message sent. */
export function storedForm(m: Message): StoredMessage {
  return { message_id: m.message_id, from: m.from, to: m.to, ts: m.ts, text: m.text ?? null };
}

export function sameStored(a: StoredMessage, b: StoredMessage): boolean {
  return (
    a.message_id === b.message_id &&
    a.from === b.from &&
    a.to === b.to &&
    a.ts === b.ts &&
    a.text === b.text
  );
}

/** The headers and body of a signed delivery of `body`. */
export function signed(
  secret: string,
  body: string,
): { headers: Record<string, string>; body: string } {
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-signature': sign(secret, body) },
  };
}
