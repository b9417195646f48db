/**
 * Case folding for `q` search: each code point is replaced by its simple (one-to-one) Unicode
 * lowercase mapping, for every script, with no normalisation. A message matches `q` when
 * fold(text) contains fold(q). Both stores keep fold(text) beside the text, so they agree exactly.
 *
 * `String.prototype.toLowerCase` applies the full mapping, which differs from the simple one in
 * two places only: `Σ` becomes `ς` at the end of a word (context-dependent), and `İ` (U+0130)
 * becomes two code points. Strings without either take the fast path.
 */

const CONTEXTUAL = /[\u03a3\u0130]/;

function foldCodePoint(char: string): string {
  const lower = char.toLowerCase();
  // U+0130 is the only code point whose full lowercase has more than one code point;
  // its simple mapping is the first of them.
  return lower.length > char.length ? String.fromCodePoint(lower.codePointAt(0) ?? 0) : lower;
}

export function fold(text: string): string {
  if (!CONTEXTUAL.test(text)) return text.toLowerCase();
  let out = '';
  for (const char of text) out += foldCodePoint(char);
  return out;
}
