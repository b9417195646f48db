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

/**
 * True when `header` is a valid signature of `body` under one of `secrets` (the current secret
 * and, while senders switch, the previous one). Every secret is tried and compared in constant
 * time, so the answer takes as long whichever one matches.
 */
export function verify(
  secrets: readonly string[],
  body: Buffer,
  header: string | undefined,
): boolean {
  return verifyHexHeader(SIGNATURE, secrets, body, header);
}

/**
 * True when `header` matches `form` (whose first group is the hex digest) and the digest is the
 * HMAC-SHA256 of `body` under one of `secrets`. Every secret is tried and compared in constant
 * time, so the answer takes as long whichever one matches.
 */
export function verifyHexHeader(
  form: RegExp,
  secrets: readonly string[],
  body: Buffer,
  header: string | undefined,
): boolean {
  if (header === undefined) return false;
  const match = form.exec(header);
  if (match === null) return false;
  const given = Buffer.from(match[1] as string, 'hex');
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    valid = timingSafeEqual(given, expected) || valid;
  }
  return valid;
}
