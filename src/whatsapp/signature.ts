import { createHmac } from 'node:crypto';
import { verifyHexHeader } from '../signature.js';

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
  return verifyHexHeader(HEADER, secrets, body, header);
}

/** The header value Meta would send for `body`. */
export function hubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
