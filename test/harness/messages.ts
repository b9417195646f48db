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

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A random valid ts between 2020 and 2029, sometimes with a fraction of 1 to 6 digits. */
export function randomTs(): string {
  const date = new Date(Date.UTC(2020, 0, 1) + Math.floor(Math.random() * 10 * 365 * 86_400_000));
  const base =
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  if (Math.random() < 0.5) return `${base}Z`;
  const digits = 1 + Math.floor(Math.random() * 6);
  return `${base}.${String(Math.floor(Math.random() * 10 ** digits)).padStart(digits, '0')}Z`;
}

function randomText(): string | null | undefined {
  const roll = Math.random();
  if (roll < 0.1) return undefined;
  if (roll < 0.2) return null;
  const parts: string[] = [];
  const count = 1 + Math.floor(Math.random() * 12);
  for (let i = 0; i < count; i++) parts.push(pick(PIECES));
  return parts.join(' ');
}

/** A fresh message whose id starts with `prefix` and is unique for this process run. */
export function uniqueMessage(prefix: string): Message {
  const m: Message = {
    message_id: `${prefix}-${randomBytes(6).toString('hex')}`,
    from: pick(SENDERS),
    to: pick(SENDERS),
    ts: randomTs(),
  };
  const text = randomText();
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
