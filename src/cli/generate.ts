import type { Message } from '../message.js';

/**
 * Deterministic sample messages: the same seed always gives the same sequence, and a longer run
 * starts with the messages of a shorter one. Senders come from a pool of 1000 E.164 numbers
 * with a Zipf-like skew (a few senders send most messages), timestamps are spread over the 30
 * days from 2025-01-01T00:00:00Z, and texts of 0 to 300 characters mix ASCII, accented, Greek,
 * Cyrillic and CJK words and an emoji; about 10% of messages have no text.
 */

export const SENDERS = 1000;
export const WINDOW_START = Date.UTC(2025, 0, 1);
export const WINDOW_SECONDS = 30 * 86_400;
export const MAX_TEXT = 300;
export const NO_TEXT_SHARE = 0.1;
/** The Zipf exponent: the top sender sends about 13% of the messages, the median one 0.03%. */
const SKEW = 1;

const WORDS = (
  'hello hi order delivery payment invoice thanks please confirm tomorrow today meeting call ' +
  'me back the a is ready at on your my we will ship it soon OK yes no maybe price quote ' +
  'ticket support refund address tracking number update status new café naïve déjà vu ' +
  'Straße Größe São Paulo Ελλάδα ΑΘΗΝΑ привет спасибо こんにちは 你好 नमस्ते مرحبا 👋'
).split(' ');
const WORD_LENGTHS = WORDS.map((word) => Array.from(word).length);

const RECIPIENTS = [
  '+14155550100',
  '+442071838750',
  '+919800000001',
  '+4930901820',
  '+61291234567',
];
const COUNTRY_CODES = ['1', '44', '91', '49', '33', '55', '81', '234', '61', '52', '62', '27'];

/** A 32-bit hash of the seed text (cyrb53's mixing), for the generator's state. */
function hash(text: string, salt: number): number {
  let h1 = 0xdeadbeef ^ salt;
  let h2 = 0x41c6ce57 ^ salt;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  return h1 >>> 0;
}

/** sfc32: a small, fast generator of uniform numbers in [0, 1). */
export function random(seed: string): () => number {
  let a = hash(seed, 1);
  let b = hash(seed, 2);
  let c = hash(seed, 3);
  let d = 1;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** SENDERS distinct E.164 numbers: + country code, then 9 to 11 digits. */
function senderPool(next: () => number): string[] {
  const pool = new Set<string>();
  while (pool.size < SENDERS) {
    const country = COUNTRY_CODES[Math.floor(next() * COUNTRY_CODES.length)] as string;
    const length = 9 + Math.floor(next() * 3);
    let digits = String(1 + Math.floor(next() * 9));
    while (digits.length < length) digits += Math.floor(next() * 10);
    pool.add(`+${country}${digits}`);
  }
  return [...pool];
}

/** Cumulative Zipf weights: rank k (from 0) has weight 1 / (k + 1)^SKEW. */
function zipf(size: number): Float64Array {
  const cumulative = new Float64Array(size);
  let sum = 0;
  for (let k = 0; k < size; k++) {
    sum += 1 / (k + 1) ** SKEW;
    cumulative[k] = sum;
  }
  for (let k = 0; k < size; k++) cumulative[k] = (cumulative[k] as number) / sum;
  return cumulative;
}

/** The first index whose cumulative weight exceeds u. */
function pick(cumulative: Float64Array, u: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((cumulative[mid] as number) > u) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * The seed's texts are cut from one long string of random words: a text is a slice of it that
 * starts at a word, so building one copies nothing and leaves almost nothing for the garbage
 * collector (a chunk of messages that each built their own string was mostly GC time).
 */
interface Corpus {
  text: string;
  /** the UTF-16 offset of each code point of text, and text.length at the end */
  offsets: Uint32Array;
  /** the code point index where each word starts */
  starts: Uint32Array;
}

const CORPUS_WORDS = 200_000;

function corpus(next: () => number): Corpus {
  const words: string[] = [];
  const starts = new Uint32Array(CORPUS_WORDS);
  let points = 0;
  for (let w = 0; w < CORPUS_WORDS; w++) {
    const i = Math.floor(next() * WORDS.length);
    words.push(WORDS[i] as string);
    starts[w] = points;
    points += (WORD_LENGTHS[i] as number) + 1;
  }
  const text = `${words.join(' ')} `;
  const offsets = new Uint32Array(points + 1);
  let point = 0;
  for (let unit = 0; unit < text.length; point++) {
    offsets[point] = unit;
    unit += (text.codePointAt(unit) as number) > 0xffff ? 2 : 1;
  }
  offsets[point] = text.length;
  return { text, offsets, starts };
}

/** Words separated by spaces, exactly `length` code points long (the last word may be cut). */
function text({ text, offsets, starts }: Corpus, next: () => number, length: number): string {
  // every word takes at least 2 code points with its space: MAX_TEXT / 2 words always fit
  const start = starts[Math.floor(next() * (CORPUS_WORDS - MAX_TEXT / 2))] as number;
  return text.slice(offsets[start], offsets[start + length]);
}

/** message_id of the n-th message (from 1) of a seed: seed<S>-00000001. */
export function messageId(seed: string, n: number): string {
  return `seed${seed}-${String(n).padStart(8, '0')}`;
}

/** Returns a function giving the seed's messages one after another, from number 1. */
export function generator(seed: string): () => Message {
  const next = random(seed);
  const senders = senderPool(next);
  const weights = zipf(SENDERS);
  const texts = corpus(next);
  let n = 0;
  return () => {
    n += 1;
    const sender = senders[pick(weights, next())] as string;
    const recipient = RECIPIENTS[Math.floor(next() * RECIPIENTS.length)] as string;
    const second = Math.floor(next() * WINDOW_SECONDS);
    const ts = `${new Date(WINDOW_START + second * 1000).toISOString().slice(0, 19)}Z`;
    const message: Message = { message_id: messageId(seed, n), from: sender, to: recipient, ts };
    if (next() >= NO_TEXT_SHARE)
      message.text = text(texts, next, Math.floor(next() * (MAX_TEXT + 1)));
    return message;
  };
}
