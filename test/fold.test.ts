import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../src/fold.js';

/** Simple lowercase mapping, one code point at a time: the definition fold() must meet. */
function reference(text: string): string {
  let out = '';
  for (const char of text) {
    const lower = char.toLowerCase();
    out +=
      Array.from(lower).length === 1 ? lower : String.fromCodePoint(lower.codePointAt(0) as number);
  }
  return out;
}

describe('fold', () => {
  it('lowercases every script one code point at a time', () => {
    assert.equal(fold('É'), 'é');
    assert.equal(fold('ΣΊΣΥΦΟΣ'), 'σίσυφοσ');
    assert.equal(fold('ОДИН'), 'один');
    assert.equal(fold('ĞÜŞİÖÇ'), 'ğüşiöç');
    assert.equal(fold('𐐀'), '𐐨');
    assert.equal(fold('Straße'), 'straße');
  });

  it('keeps the code point count, so matching never spans a changed length', () => {
    for (const text of ['İstanbul', 'ΟΔΟΣ', 'ǅ', 'ẞ']) {
      assert.equal(Array.from(fold(text)).length, Array.from(text).length, text);
    }
  });

  it('agrees with the per-code-point reference for every code point', () => {
    const chunk: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      chunk.push(String.fromCodePoint(cp));
      if (chunk.length === 4096 || cp === 0x10ffff) {
        // in context too: the fast path lowercases whole strings
        const text = `A${chunk.join('')}Σ `;
        assert.equal(fold(text), reference(text));
        const fastPath = chunk.filter((char) => char !== 'Σ' && char !== 'İ').join('');
        assert.equal(fold(fastPath), reference(fastPath));
        for (const char of chunk) {
          if (fold(char) !== reference(char)) assert.fail(`U+${cp.toString(16)}: ${fold(char)}`);
        }
        chunk.length = 0;
      }
    }
  });

  it('takes the whole-string fast path only when it equals the reference', () => {
    const text = 'Hello WORLD café ÀÉÎÕÜ Привет';
    assert.equal(fold(text), reference(text));
  });
});
