import { isUtf8 } from 'node:buffer';
import { validationError } from './errors.js';

/** A webhook body (already verified over its raw bytes) as a JSON value, or a 422 naming why not. */
export function parseJson(body: Buffer): unknown {
  if (!isUtf8(body)) {
    throw validationError([
      { loc: ['body'], msg: 'Body is not valid UTF-8', type: 'utf8_invalid' },
    ]);
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw validationError([
      { loc: ['body'], msg: `Invalid JSON: ${(error as Error).message}`, type: 'json_invalid' },
    ]);
  }
}
