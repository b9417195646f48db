import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (standardwebhooks.com, v1, symmetric): the sender signs
 * `<webhook-id>.<webhook-timestamp>.<raw body>` with HMAC-SHA256 under a key it shows as `whsec_`
 * and the key's base64, and sends `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature`, a space-separated list of `v1,<base64 of the 32-byte HMAC>` (several
 * during a key rotation; other versions such as the asymmetric `v1a` are ignored).
 *
 * Every configured key is tried on every request, and every v1 entry is compared with
 * crypto.timingSafeEqual on 32-byte buffers, so the time taken does not depend on which key or
 * which entry matched. An entry whose base64 is malformed or not 32 bytes long is skipped.
 */

export type SignatureScheme = 'x-signature' | 'standard-webhooks';

/**
 * `whsec_` and the standard base64 (with `=` padding) of a key of 24 to 64 bytes: 8 to 21 full
 * groups of four characters (24 to 63 bytes), or 8 to 20 groups then `xxx=` (26 to 62), or 8 to
 * 21 groups then `xx==` (25 to 64).
 */
export const STANDARD_KEY_PATTERN =
  '^whsec_(?:(?:[A-Za-z0-9+/]{4}){8,21}|(?:[A-Za-z0-9+/]{4}){8,20}[A-Za-z0-9+/]{3}=|(?:[A-Za-z0-9+/]{4}){8,21}[A-Za-z0-9+/]{2}==)$';
const STANDARD_KEY = new RegExp(STANDARD_KEY_PATTERN);
const PREFIX = 'whsec_';

export const DEFAULT_TOLERANCE_S = 300;

/** A v1 signature: the base64 of 32 bytes is 43 characters and one `=`. */
const V1_SIGNATURE = /^[A-Za-z0-9+/]{43}=$/;
const TIMESTAMP = /^[0-9]+$/;

/** The key bytes of a `whsec_` key, or null when it is not one. */
export function parseStandardKey(key: string): Buffer | null {
  return STANDARD_KEY.test(key) ? Buffer.from(key.slice(PREFIX.length), 'base64') : null;
}

/** The content signed: the id and the timestamp as their header bytes, then the raw body. */
function digest(key: Buffer, id: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', key)
    .update(Buffer.from(`${id}.${timestamp}.`, 'latin1'))
    .update(body)
    .digest();
}

/**
 * `v1,<base64>` for `body` sent with this id and timestamp. The id and the timestamp are the
 * exact header values, which travel as bytes (Latin-1 in Node): keep them ASCII.
 */
export function signStandard(
  key: Buffer,
  id: string,
  timestamp: number | string,
  body: Buffer | string,
): string {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return `v1,${digest(key, id, String(timestamp), bytes).toString('base64')}`;
}

/** Why a request failed; the webhook route answers each with a 401 naming it. */
export type StandardFailure =
  | 'missing_id'
  | 'missing_timestamp'
  | 'missing_signature'
  | 'malformed_timestamp'
  | 'outside_tolerance'
  | 'no_match';

export interface StandardHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export interface StandardVerifier {
  /** null when the request is authentic and fresh, otherwise why not */
  verify(body: Buffer, headers: StandardHeaders): StandardFailure | null;
}

export interface StandardWebhooksOptions {
  /** STANDARD_WEBHOOKS_SECRET: `whsec_…` */
  secret: string;
  /** STANDARD_WEBHOOKS_SECRET_PREVIOUS, accepted too while senders switch keys */
  previousSecret?: string | null;
  /** STANDARD_WEBHOOKS_TOLERANCE_S: the largest accepted distance from now, either way */
  toleranceSeconds?: number;
  /** the clock, in milliseconds since the epoch (tests set it) */
  now?: () => number;
}

/** The 32-byte signatures of the v1 entries of a `webhook-signature` header. */
function v1Signatures(header: string): Buffer[] {
  const found: Buffer[] = [];
  for (const entry of header.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const value = entry.slice(comma + 1);
    if (V1_SIGNATURE.test(value)) found.push(Buffer.from(value, 'base64'));
  }
  return found;
}

/** Throws when a configured key is not a `whsec_` key (config.ts checks them at start). */
export function standardVerifier(options: StandardWebhooksOptions): StandardVerifier {
  const keys = [options.secret, options.previousSecret ?? null]
    .filter((key): key is string => typeof key === 'string')
    .map((key) => {
      const bytes = parseStandardKey(key);
      if (bytes === null) throw new Error('a Standard Webhooks key must be whsec_ and base64');
      return bytes;
    });
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_S;
  const now = options.now ?? Date.now;

  return {
    verify(body, { id, timestamp, signature }) {
      if (id === undefined || id === '') return 'missing_id';
      if (timestamp === undefined || timestamp === '') return 'missing_timestamp';
      if (signature === undefined || signature === '') return 'missing_signature';
      if (!TIMESTAMP.test(timestamp)) return 'malformed_timestamp';
      const seconds = Math.floor(now() / 1000);
      // a digit string too long for a number is Infinity: outside any tolerance
      if (!(Math.abs(seconds - Number(timestamp)) <= tolerance)) return 'outside_tolerance';
      const given = v1Signatures(signature);
      let valid = false;
      for (const key of keys) {
        const expected = digest(key, id, timestamp, body);
        for (const candidate of given) valid = timingSafeEqual(candidate, expected) || valid;
      }
      return valid ? null : 'no_match';
    },
  };
}
