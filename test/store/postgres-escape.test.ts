import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { escapeText, unescapeText } from '../../src/store/postgres/escape.js';
import { byCodePoint } from '../helpers.js';

// Strings rich in the three code points the escape is about, plus the extremes of the range.
const unit = fc.oneof(
  fc.constantFrom('\u0000', '\u0001', '\u0002', '\u0003', 'a', '\uffff', '😀', '\u{10ffff}'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const text = fc.string({ unit, maxLength: 12 });

function sign(n: number): number {
  return Math.sign(n);
}

describe('the PostgreSQL text escape', () => {
  it('leaves strings without U+0000 and U+0001 unchanged', () => {
    for (const value of ['', 'hello', '\u0002', 'émoji 😀', '%_\\']) {
      assert.equal(escapeText(value), value);
      assert.equal(unescapeText(value), value);
    }
  });

  it('writes U+0000 and U+0001 as two-code-point sequences free of U+0000', () => {
    assert.equal(escapeText('a\u0000b\u0001c'), 'a\u0001\u0001b\u0001\u0002c');
    assert.equal(escapeText('\u0001\u0000'), '\u0001\u0002\u0001\u0001');
    fc.assert(
      fc.property(text, (value) => !escapeText(value).includes('\u0000')),
      { numRuns: 2000 },
    );
  });

  it('round-trips every string exactly', () => {
    fc.assert(
      fc.property(text, (value) => unescapeText(escapeText(value)) === value),
      { numRuns: 5000 },
    );
  });

  it('keeps code point order, so COLLATE "C" orders escaped ids as the originals', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        return sign(byCodePoint(escapeText(a), escapeText(b))) === sign(byCodePoint(a, b));
      }),
      { numRuns: 5000 },
    );
    const ids = ['\u0001', '\u0000', '\u0000\u0000', '\u0002', '', 'a\u0000', 'a', '\u0001\u0001'];
    assert.deepEqual(
      ids.map(escapeText).sort(byCodePoint).map(unescapeText),
      [...ids].sort(byCodePoint),
    );
  });
});
