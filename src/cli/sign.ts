import { sign } from '../signature.js';
import { readInput } from './input.js';
import { parse, secretFrom } from './usage.js';

/** `sign [--secret S] [FILE]`: prints the hex HMAC-SHA256 of FILE's (or stdin's) exact bytes. */
export async function runSign(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { secret: { type: 'string' } }, 1);
  const secret = secretFrom(values.secret);
  const body = await readInput(positionals[0]);
  process.stdout.write(`${sign(secret, body)}\n`);
  return 0;
}
