import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: the hex HMAC-SHA256 of the raw request body, keyed with the shared secret.
 * The header may carry the bare hex digest (either case) or the `sha256=<hex>` form that
 * GitHub and Meta send.
 */

const SIGNATURE = /^(?:sha256=)?([0-9a-f]{64})$/i;

export function sign(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** True when `header` is a valid signature of `body` under `secret`, compared in constant time. */
export function verify(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const match = SIGNATURE.exec(header);
  if (match === null) return false;
  const given = Buffer.from(match[1] as string, 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(given, expected);
}
