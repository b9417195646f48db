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

/**
 * Simple lowercase mappings written down from UnicodeData.txt (field 13), not computed: upper →
 * lower, as code points. The reference above is built from toLowerCase() like fold() itself, so
 * these are what would catch both going wrong the same way.
 */
const KNOWN: [script: string, upper: number, lower: number][] = [
  ['Latin', 0x0041, 0x0061], // A → a
  ['Latin', 0x00c9, 0x00e9], // É → é
  ['Latin', 0x1e9e, 0x00df], // ẞ capital sharp s → ß
  ['Latin', 0x01c5, 0x01c6], // ǅ titlecase → ǆ
  ['Latin', 0x212a, 0x006b], // Kelvin sign → k
  ['Turkish dotted I', 0x0130, 0x0069], // İ → i (its full mapping adds U+0307)
  ['Turkish dotted I', 0x0049, 0x0069], // I → i, never ı: no locale
  ['Turkish dotless i', 0x0131, 0x0131], // ı is lowercase already
  ['Greek', 0x03a3, 0x03c3], // Σ → σ, also at the end of a word (never ς)
  ['Greek', 0x03c2, 0x03c2], // ς stays ς
  ['Greek', 0x0391, 0x03b1], // Α → α
  ['Greek', 0x038f, 0x03ce], // Ώ → ώ
  ['Greek', 0x2126, 0x03c9], // Ohm sign → ω
  ['Cyrillic', 0x0414, 0x0434], // Д → д
  ['Cyrillic', 0x0401, 0x0451], // Ё → ё
  ['Cyrillic', 0x042f, 0x044f], // Я → я
  ['Cyrillic', 0x0462, 0x0463], // Ѣ → ѣ
  ['Cyrillic', 0x04c0, 0x04cf], // Ӏ palochka → ӏ
  ['Armenian', 0x0531, 0x0561], // Ա → ա
  ['Armenian', 0x0556, 0x0586], // Ֆ → ֆ
  ['Georgian', 0x10a0, 0x2d00], // Ⴀ → ⴀ
  ['Deseret', 0x10400, 0x10428], // 𐐀 → 𐐨
  ['Deseret', 0x10427, 0x1044f], // 𐐧 → 𐑏
  ['Cherokee', 0x13a0, 0xab70], // Ꭰ → ꭰ
  ['Cherokee', 0x13ef, 0xabbf], // Ꮿ → ꮿ
  ['Cherokee', 0x13f0, 0x13f8], // Ᏸ → ᏸ
  ['Cherokee', 0x13f5, 0x13fd], // Ᏽ → ᏽ
  ['Cherokee', 0xab70, 0xab70], // ꭰ is lowercase already
  ['digit', 0x0031, 0x0031], // 1 has no case
  ['CJK', 0x65e5, 0x65e5], // 日 has no case
];

describe('fold', () => {
  it('meets the simple case mappings written down from the Unicode data', () => {
    const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const [script, upper, lower] of KNOWN) {
      const char = String.fromCodePoint(upper);
      const want = String.fromCodePoint(lower);
      const label = `${script} ${hex(upper)} → ${hex(lower)}`;
      assert.equal(fold(char), want, label);
      // the same inside words, on either path: around a Σ or an İ too, which take the slow one
      assert.equal(fold(`a${char}b`), `a${want}b`, `${label} in a word`);
      assert.equal(fold(`${char}Σ`), `${want}σ`, `${label} before a final Σ`);
      assert.equal(fold(`İ${char} `), `i${want} `, `${label} after İ`);
    }
    // whole words: final sigma in each position, Turkish and Cherokee text
    assert.equal(fold('ΟΔΟΣ ΣΟΦΟΣ'), 'οδοσ σοφοσ');
    assert.equal(fold('İSTANBUL'), 'istanbul');
    assert.equal(fold('\u13e3\u13b3\u13a9'), '\uabb3\uab83\uab79'); // ᏣᎳᎩ, Cherokee
  });

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
