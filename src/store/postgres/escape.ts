/**
 * PostgreSQL `text` cannot hold U+0000, but a message_id or text may contain it. Strings are
 * therefore written through a small escape and read back through its inverse:
 *
 *   U+0000 → U+0001 U+0001
 *   U+0001 → U+0001 U+0002
 *   every other code point unchanged
 *
 * The code is prefix-free and monotone, so it keeps code point order (what `COLLATE "C"`
 * compares): message_id order in the database is the order of the original strings. Strings
 * without U+0000 or U+0001, that is nearly all of them, are stored verbatim and stay readable.
 */

const NUL = 0x0000;
const ESC = 0x0001;
const TWO = 0x0002;

/** The first index at or after `from` holding U+0000 or U+0001, or -1. */
function findControl(value: string, from: number): number {
  for (let i = from; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit === NUL || unit === ESC) return i;
  }
  return -1;
}

export function escapeText(value: string): string {
  let i = findControl(value, 0);
  if (i === -1) return value;
  let out = '';
  let start = 0;
  while (i !== -1) {
    out += value.slice(start, i) + (value.charCodeAt(i) === NUL ? '\u0001\u0001' : '\u0001\u0002');
    start = i + 1;
    i = findControl(value, start);
  }
  return out + value.slice(start);
}

export function unescapeText(value: string): string {
  let i = value.indexOf('\u0001');
  if (i === -1) return value;
  let out = '';
  let start = 0;
  while (i !== -1) {
    // escapeText never writes U+0001 alone; a stray one is kept rather than lost
    const next = value.charCodeAt(i + 1);
    const decoded = next === ESC ? '\u0000' : next === TWO ? '\u0001' : null;
    if (decoded === null) {
      out += value.slice(start, i + 1);
      start = i + 1;
    } else {
      out += value.slice(start, i) + decoded;
      start = i + 2;
    }
    i = value.indexOf('\u0001', start);
  }
  return out + value.slice(start);
}
