import { isUtf8 } from 'node:buffer';
import { type Message, MessageSchema } from '../message.js';
import { ajv, toIssues } from '../validation.js';

/** One line of a JSON Lines file, checked with the webhook's rules. */
export type Line = { message: Message } | { invalid: string } | null;

const validate = ajv.compile<Message>(MessageSchema);

/** Only JSON whitespace: a line of other spaces (U+00A0...) is not blank but invalid JSON. */
const BLANK = /^[ \t\r]*$/;

/** The message on `bytes`, why it is not one, or null for a blank line. */
export function parseLine(bytes: Buffer): Line {
  if (!isUtf8(bytes)) return { invalid: 'not valid UTF-8' };
  const text = bytes.toString('utf8');
  if (BLANK.test(text)) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { invalid: `not JSON: ${(error as Error).message}` };
  }
  if (validate(value)) return { message: value };
  const issues = toIssues('body', validate.errors ?? []);
  return {
    invalid: issues
      .map(({ loc, msg }) => (loc.length > 1 ? `${loc.slice(1).join('.')}: ${msg}` : msg))
      .join('; '),
  };
}
