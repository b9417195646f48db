import { randomBytes } from 'node:crypto';
import { sign } from '../signature.js';
import { parseStandardKey, signStandard } from '../standard-webhooks.js';
import { env, secretFrom, UsageError } from './usage.js';

/**
 * Signing as a Standard Webhooks sender (`--standard`): the three headers `webhook-id`,
 * `webhook-timestamp` and `webhook-signature`, keyed with a `whsec_` key.
 */

const ID = /^[!-~]{1,256}$/;
const TIMESTAMP = /^[0-9]{1,15}$/;

export type Headers = Record<string, string>;

/** The key from --secret or STANDARD_WEBHOOKS_SECRET, as its bytes. */
function standardKeyFrom(option: string | undefined): Buffer {
  const given = option !== undefined && option !== '';
  const text = given ? option : env('STANDARD_WEBHOOKS_SECRET');
  if (text === undefined) {
    throw new UsageError('no key: pass --secret whsec_... or set STANDARD_WEBHOOKS_SECRET');
  }
  const key = parseStandardKey(text);
  if (key === null) {
    throw new UsageError(
      `${given ? '--secret' : 'STANDARD_WEBHOOKS_SECRET'} must be whsec_ followed by the standard base64 (with = padding) of a 24 to 64 byte key`,
    );
  }
  return key;
}

/**
 * The three headers for `body`: `id` defaults to a random `msg_…`, `timestamp` to now (unix
 * seconds). Both are checked first, so that a mistake is a usage error.
 */
export function standardSigner(
  secret: string | undefined,
  options: { id?: string | undefined; timestamp?: string | undefined } = {},
): (body: Buffer) => Headers {
  if (options.id !== undefined && !ID.test(options.id)) {
    throw new UsageError('--id must be 1 to 256 printable ASCII characters, without spaces');
  }
  if (options.timestamp !== undefined && !TIMESTAMP.test(options.timestamp)) {
    throw new UsageError('--timestamp must be whole unix seconds: digits only');
  }
  const key = standardKeyFrom(secret);
  return (body) => {
    const id = options.id ?? `msg_${randomBytes(18).toString('base64url')}`;
    const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
    return {
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': signStandard(key, id, timestamp, body),
    };
  };
}

/** The signature headers `send` adds: the Standard Webhooks three, or X-Signature. */
export function headerSigner(standard: boolean, secret: string | undefined) {
  if (standard) return standardSigner(secret);
  const key = secretFrom(secret);
  return (body: Buffer): Headers => ({ 'x-signature': sign(key, body) });
}
