import type { Message } from '../message.js';
import { sign } from '../signature.js';
import { env, UsageError } from './usage.js';

/**
 * Deliveries as Meta's WhatsApp Cloud API sends them: messages wrapped in the
 * `whatsapp_business_account` envelope, serialised the way Meta serialises (non-ASCII and `/`
 * escaped), and signed with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the bytes>`.
 */

/** The business account (`entry[].id`) and phone number id the deliveries claim to come from. */
export const ACCOUNT_ID = '100000000000001';
export const PHONE_NUMBER_ID = '200000000000001';

/** The largest batch Meta sends in one delivery. */
export const MAX_BATCH = 1000;
export const DEFAULT_BATCH = 100;

export const SIGNATURE_HEADER = 'X-Hub-Signature-256';

interface Item {
  from: string;
  id: string;
  timestamp: string;
  type: string;
  text?: { body: string };
  sticker?: { mime_type: string; sha256: string; id: string; animated: boolean };
}

interface Contact {
  profile: { name: string };
  wa_id: string;
}

function digits(e164: string): string {
  return e164.startsWith('+') ? e164.slice(1) : e164;
}

/** `ts` as whole unix seconds (a fraction of a second is dropped), as Meta's digit string. */
export function unixSeconds(ts: string): string {
  return String(Math.floor(Date.parse(ts) / 1000));
}

/**
 * One message as a `messages[]` item: a `text` message, or, without text, a `sticker` (which the
 * service stores with text `null`, as the message had none).
 */
export function item(message: Message): Item {
  const base = { from: digits(message.from), id: message.message_id };
  const timestamp = unixSeconds(message.ts);
  if (typeof message.text === 'string') {
    return { ...base, timestamp, type: 'text', text: { body: message.text } };
  }
  const sticker = {
    mime_type: 'image/webp',
    sha256: Buffer.from(message.message_id).toString('base64'),
    id: `9${base.from.slice(-8)}`,
    animated: false,
  };
  return { ...base, timestamp, type: 'sticker', sticker };
}

/** A made-up profile name for a sender: "Customer" and the last four digits. */
export function contactName(from: string): string {
  return `Customer ${digits(from).slice(-4)}`;
}

/**
 * The envelope for `messages`: one entry, and one `messages` change per business number (`to`),
 * as Meta sends one change per phone number, each with the contacts of its senders.
 */
export function envelope(messages: readonly Message[]) {
  const byNumber = new Map<string, Message[]>();
  for (const message of messages) {
    const group = byNumber.get(message.to);
    if (group === undefined) byNumber.set(message.to, [message]);
    else group.push(message);
  }
  const changes = [...byNumber].map(([to, group]) => {
    const contacts = new Map<string, Contact>();
    for (const { from } of group) {
      contacts.set(from, { profile: { name: contactName(from) }, wa_id: digits(from) });
    }
    return {
      value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: digits(to), phone_number_id: PHONE_NUMBER_ID },
        contacts: [...contacts.values()],
        messages: group.map(item),
      },
      field: 'messages',
    };
  });
  return { object: 'whatsapp_business_account', entry: [{ id: ACCOUNT_ID, changes }] };
}

/**
 * JSON as Meta writes it: every character outside ASCII as `\uXXXX` (lowercase hex; one
 * beyond U+FFFF as its surrogate pair), and `/` as `\/`. The bytes differ from
 * JSON.stringify's while the value is the same, which is why only the raw body verifies.
 */
export function metaJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff/]/g, (char) =>
    char === '/' ? '\\/' : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The body of one delivery of `messages`, as bytes. */
export function deliveryBody(messages: readonly Message[]): Buffer {
  return Buffer.from(metaJson(envelope(messages)));
}

/** The header's value for `body`: `sha256=` and the hex HMAC-SHA256 keyed with the app secret. */
export function signatureValue(secret: string, body: Buffer): string {
  return `sha256=${sign(secret, body)}`;
}

/** The app secret from --secret or WHATSAPP_APP_SECRET. */
export function appSecretFrom(option: string | undefined): string {
  const secret = option !== undefined && option !== '' ? option : env('WHATSAPP_APP_SECRET');
  if (secret === undefined) {
    throw new UsageError('no app secret: pass --secret S or set WHATSAPP_APP_SECRET');
  }
  return secret;
}

/** --batch: a whole number from 1 to MAX_BATCH. */
export function parseBatch(value: string | undefined): number {
  if (value === undefined) return DEFAULT_BATCH;
  const size = /^[0-9]{1,7}$/.test(value) ? Number(value) : Number.NaN;
  if (!(size >= 1 && size <= MAX_BATCH)) {
    throw new UsageError(`--batch must be a whole number from 1 to ${MAX_BATCH}, not '${value}'`);
  }
  return size;
}
