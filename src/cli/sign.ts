import { sign } from '../signature.js';
import { readInput } from './input.js';
import { standardSigner } from './standard.js';
import { parse, secretFrom, UsageError } from './usage.js';
import { appSecretFrom, SIGNATURE_HEADER, signatureValue } from './whatsapp.js';

const OPTIONS = {
  secret: { type: 'string' },
  standard: { type: 'boolean' },
  whatsapp: { type: 'boolean' },
  id: { type: 'string' },
  timestamp: { type: 'string' },
} as const;

/**
 * `sign [--secret S] [FILE]`: prints the hex HMAC-SHA256 of FILE's (or stdin's) exact bytes.
 * `sign --standard [--secret whsec_K] [--id ID] [--timestamp T] [FILE]`: prints the three
 * Standard Webhooks headers for them instead, one `name: value` line each.
 * `sign --whatsapp [--secret S] [FILE]`: prints `X-Hub-Signature-256: sha256=<hex>`, keyed with
 * the WhatsApp app secret.
 */
export async function runSign(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, 1);
  if (values.whatsapp === true) {
    if (values.standard === true) {
      throw new UsageError('--standard and --whatsapp exclude each other');
    }
    if (values.id !== undefined || values.timestamp !== undefined) {
      throw new UsageError('--id and --timestamp go with --standard');
    }
    const secret = appSecretFrom(values.secret);
    const body = await readInput(positionals[0]);
    process.stdout.write(`${SIGNATURE_HEADER}: ${signatureValue(secret, body)}\n`);
    return 0;
  }
  if (values.standard !== true) {
    if (values.id !== undefined || values.timestamp !== undefined) {
      throw new UsageError('--id and --timestamp go with --standard');
    }
    const secret = secretFrom(values.secret);
    const body = await readInput(positionals[0]);
    process.stdout.write(`${sign(secret, body)}\n`);
    return 0;
  }
  const signer = standardSigner(values.secret, { id: values.id, timestamp: values.timestamp });
  const headers = signer(await readInput(positionals[0]));
  for (const [name, value] of Object.entries(headers)) process.stdout.write(`${name}: ${value}\n`);
  return 0;
}
