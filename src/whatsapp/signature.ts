import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Meta's `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 (either case) of the raw body,
 * keyed with the app secret. Meta serialises non-ASCII characters as `\u00e9` escapes, so only
 * the exact bytes received verify, never a re-serialisation of the parsed body.
 */

const HEADER = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * True when `header` signs `body` under one of `secrets` (the app secret and, during a rotation,
 * the previous one). Every secret is tried and compared in constant time.
 */
export function verifyHubSignature(
  secrets: readonly string[],
  body: Buffer,
  header: string | undefined,
): boolean {
  if (header === undefined) return false;
  const match = HEADER.exec(header);
  if (match === null) return false;
  const given = Buffer.from(match[1] as string, 'hex');
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    valid = timingSafeEqual(given, expected) || valid;
  }
  return valid;
}

/** The header value Meta would send for `body`. */
export function hubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
