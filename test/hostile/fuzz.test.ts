import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SECRET, storeKinds, type TestApp, testApp } from '../helpers.js';

/**
 * POST /webhook fuzzed through inject with fast-check, on every store: arbitrary bytes, arbitrary
 * JSON, messages with fields of every wrong type, duplicate keys, deep nesting, huge strings,
 * random headers and signatures. An independent oracle (below, written from the contract, not
 * from the code) says what each request must get; every answer must be that status in the
 * documented envelope, and the store must hold exactly the valid messages acknowledged. Valid
 * random messages (any Unicode, NUL, RTL marks, astral characters, the longest ids and texts)
 * must read back byte for byte.
 */

const MAX_BODY_BYTES = 65536;
/** fast-check runs per property; the whole file stays well under a minute on both stores */
const RUNS = fuzzRuns(process.env.FUZZ_RUNS);
/** fast-check's seed: its own unless FUZZ_SEED replays a failure (fast-check prints the seed) */
const SEED = fuzzSeed(process.env.FUZZ_SEED);
if (SEED !== undefined) fc.configureGlobal({ seed: SEED });

/** FUZZ_RUNS: a whole number of at least 1, 300 when unset; anything else stops the file. */
function fuzzRuns(value: string | undefined): number {
  if (value === undefined) return 300;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new Error(`FUZZ_RUNS must be a whole number >= 1, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function fuzzSeed(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(`FUZZ_SEED must be a whole number, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

// ---- the oracle ----

const E164 = /^\+[1-9][0-9]{1,14}$/;
const TS = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,6})?Z$/;

function realInstant(ts: string): boolean {
  const m = TS.exec(ts);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  if (year === undefined || month === undefined || day === undefined) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return (
    year >= 1 &&
    days !== undefined &&
    day >= 1 &&
    day <= days &&
    (hour ?? 99) <= 23 &&
    (minute ?? 99) <= 59 &&
    (second ?? 99) <= 59
  );
}

const codePoints = (s: string) => [...s].length;
const unicodeText = (s: string) => s.isWellFormed();

/** The message_id when `value` is a valid message, else null. */
function validMessage(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const m = value as Record<string, unknown>;
  const id = m.message_id;
  if (typeof id !== 'string' || id === '' || codePoints(id) > 256 || !unicodeText(id)) return null;
  if (typeof m.from !== 'string' || !E164.test(m.from)) return null;
  if (typeof m.to !== 'string' || !E164.test(m.to)) return null;
  if (typeof m.ts !== 'string' || !realInstant(m.ts)) return null;
  if (m.text !== undefined && m.text !== null) {
    if (typeof m.text !== 'string' || codePoints(m.text) > 4096 || !unicodeText(m.text))
      return null;
  }
  return id;
}

interface Request {
  body: Buffer;
  headers: Record<string, string>;
}

interface Setup {
  maxBodyBytes: number;
  secret: string | null;
}

const DEFAULT_SETUP: Setup = { maxBodyBytes: MAX_BODY_BYTES, secret: SECRET };

/** What the contract says `request` must get, and the id it stores when it is a 200. */
function expected(request: Request, setup = DEFAULT_SETUP): { status: number; id?: string } {
  const { body, headers } = request;
  if (body.length > setup.maxBodyBytes) return { status: 413 };
  const type = headers['content-type'];
  if (type === undefined || type.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    return { status: 415 };
  }
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return { status: 415 };
  }
  if (setup.secret === null) return { status: 503 };
  const digest = createHmac('sha256', SECRET).update(body).digest('hex');
  const signature = /^(?:sha256=)?([0-9a-f]{64})$/i.exec(headers['x-signature'] ?? '');
  if (signature?.[1]?.toLowerCase() !== digest) return { status: 401 };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { status: 422 };
  }
  const id = validMessage(value);
  return id === null ? { status: 422 } : { status: 200, id };
}

/** Asserts the body is the envelope its status documents. */
function assertEnvelope(status: number, text: string, label: string): void {
  const body = JSON.parse(text);
  if (status === 200) {
    assert.deepEqual(body, { status: 'ok' }, label);
    return;
  }
  assert.deepEqual(Object.keys(body), ['detail'], label);
  if (status === 422) {
    assert.ok(Array.isArray(body.detail) && body.detail.length > 0, `${label}: ${text}`);
    for (const issue of body.detail) {
      assert.ok(Array.isArray(issue.loc) && issue.loc[0] === 'body', `${label}: loc ${text}`);
      assert.equal(typeof issue.msg, 'string', label);
      assert.equal(typeof issue.type, 'string', label);
    }
  } else {
    assert.equal(typeof body.detail, 'string', `${label}: ${text}`);
  }
}

// ---- generators ----

const sign = (body: Buffer) => createHmac('sha256', SECRET).update(body).digest('hex');

/** X-Signature: mostly right (in every accepted form), sometimes wrong in every way. */
const signatureFor = (body: Buffer): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(sign(body)) },
    fc.constant(sign(body).toUpperCase()),
    fc.constant(`sha256=${sign(body)}`),
    fc.constant(`SHA256=${sign(body)}`),
    fc.constant(undefined),
    fc.constant(''),
    fc.constant(sign(body).slice(0, 63)),
    fc.constant(`${sign(body)}0`),
    fc.constant(` ${sign(body)}`),
    fc.constant(`sha256:${sign(body)}`),
    fc.constant(`${sign(body).slice(0, 62)}zz`),
    fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
    fc.stringMatching(/^[0-9a-f]{1,130}$/),
  );

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    ' application/json ;charset=latin1',
    'application/jsonx',
    'application/json-patch+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/ json',
    '',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc.constant(undefined),
);

/** Headers around `body`: content type, signature, sometimes an encoding and a request id. */
const headersFor = (body: Buffer): fc.Arbitrary<Record<string, string>> =>
  fc
    .record({
      type: contentType,
      signature: signatureFor(body),
      encoding: fc.option(fc.constantFrom('gzip', 'identity', 'br', 'IDENTITY', 'x'), {
        freq: 10,
        nil: undefined,
      }),
      requestId: fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 140 }), {
        nil: undefined,
      }),
    })
    .map(({ type, signature, encoding, requestId }) => {
      const headers: Record<string, string> = {};
      if (type !== undefined) headers['content-type'] = type;
      if (signature !== undefined) headers['x-signature'] = signature;
      if (encoding !== undefined) headers['content-encoding'] = encoding;
      if (requestId !== undefined) headers['x-request-id'] = requestId;
      return headers;
    });

const withHeaders = (body: fc.Arbitrary<Buffer>): fc.Arbitrary<Request> =>
  body.chain((b) => headersFor(b).map((headers) => ({ body: b, headers })));

let counter = 0;
const uniqueId = () => `fz-${++counter}`;

const validTs = fc
  .record({
    date: fc.date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    digits: fc.integer({ min: 0, max: 6 }),
    fraction: fc.integer({ min: 0, max: 999_999 }),
  })
  .map(({ date, digits, fraction }) => {
    const base = date.toISOString().slice(0, 19);
    return digits === 0
      ? `${base}Z`
      : `${base}.${String(fraction).padStart(6, '0').slice(0, digits)}Z`;
  });

const phone = fc.stringMatching(/^\+[1-9][0-9]{1,14}$/);

/** Values of every JSON type, some of them long or odd strings. */
const wrongValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '+0123',
    '+91 98765',
    '+١٢٣٤٥',
    '+919876543210\n',
    '2025-02-30T00:00:00Z',
    '2025-01-15T24:00:00Z',
    '2025-01-15T10:00:00+05:30',
    '2025-01-15T10:00:00z',
    '2025-01-15T10:00:00.1234567Z',
    '\ud800',
    'a\udc00b',
  ),
  fc.integer({ min: 257, max: 300 }).map((n) => 'i'.repeat(n)),
  fc.integer({ min: 4097, max: 4200 }).map((n) => '😀'.repeat(n)),
);

/** A message whose fields are each valid, missing or of a wrong type or shape. */
const mutatedMessage = fc
  .record({
    message_id: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, wrongValue),
    from: fc.oneof({ weight: 3, arbitrary: phone }, wrongValue),
    to: fc.oneof({ weight: 3, arbitrary: phone }, wrongValue),
    ts: fc.oneof({ weight: 3, arbitrary: validTs }, wrongValue),
    text: fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }) },
      wrongValue,
    ),
    drop: fc.subarray(['message_id', 'from', 'to', 'ts', 'text']),
    extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 3,
    }),
    duplicate: fc.option(
      fc.tuple(fc.constantFrom('message_id', 'from', 'to', 'ts', 'text'), wrongValue),
      { nil: undefined },
    ),
  })
  .map(({ drop, extra, duplicate, ...fields }) => {
    const entries: [string, unknown][] = Object.entries({ ...extra });
    for (const [key, value] of Object.entries(fields)) {
      if (drop.includes(key)) continue;
      entries.push([key, key === 'message_id' && value === '' ? uniqueId() : value]);
    }
    // a repeated key: JSON.parse keeps the last, and so must the service
    if (duplicate !== undefined) {
      const [key, value] = duplicate;
      const at = entries.findIndex(([k]) => k === key);
      if (at !== -1) entries.splice(at, 0, [key, value]);
    }
    const text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;
    return Buffer.from(text);
  });

/** A valid message: any Unicode text up to 4096 code points, ids up to 256. */
const validMessageArb = fc.record({
  message_id: fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }),
  from: phone,
  to: phone,
  ts: validTs,
  text: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 4096 }),
    fc.string({
      unit: fc.constantFrom('\u0000', '\u200f', '\u202e', '😀', '𝔸', 'é', 'ß', 'a'),
      maxLength: 4096,
    }),
    fc.constant(null),
    fc.constant(undefined),
  ),
});

// ---- the properties ----

describe('FUZZ_RUNS', () => {
  it('is a whole number of at least 1, or unset: 0 or a non-number never runs nothing', () => {
    assert.equal(fuzzRuns(undefined), 300);
    assert.equal(fuzzRuns('1'), 1);
    assert.equal(fuzzRuns('2000'), 2000);
    for (const bad of ['0', '', ' ', 'abc', '1.5', '-3', '1e3', '300 ', '0x10', 'Infinity']) {
      assert.throws(() => fuzzRuns(bad), /FUZZ_RUNS must be a whole number >= 1/, bad);
    }
  });
});

for (const kind of storeKinds()) {
  describe(`POST /webhook fuzzed (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    /** ids of the valid messages acknowledged */
    const valid = new Set<string>();
    let cases = 0;

    before(async () => {
      t = await testApp({ kind, maxBodyBytes: MAX_BODY_BYTES, logLevel: 'error' });
    });
    after(() => t?.close());

    /** Sends `request`, checks the answer against the oracle, and records what it stored. */
    async function check(request: Request, app = t, setup = DEFAULT_SETUP): Promise<void> {
      cases++;
      const want = expected(request, setup);
      const response = await app.app.inject({
        method: 'POST',
        url: '/webhook',
        payload: request.body,
        headers: request.headers,
      });
      const label = `${JSON.stringify(request.headers)} ${JSON.stringify(request.body.toString('latin1').slice(0, 200))}`;
      const answers = setup.secret === null ? [413, 415, 503] : [200, 401, 413, 415, 422];
      assert.ok(
        answers.includes(response.statusCode),
        `${response.statusCode} is not an answer POST /webhook gives: ${label}`,
      );
      assert.equal(response.statusCode, want.status, `${label}\n${response.body}`);
      assertEnvelope(response.statusCode, response.body, label);
      if (want.id !== undefined && app === t) valid.add(want.id);
    }

    const property = (arb: fc.Arbitrary<Request>, runs = RUNS) =>
      fc.assert(
        fc.asyncProperty(arb, (request) => check(request)),
        { numRuns: runs },
      );

    it('arbitrary bytes', () =>
      property(withHeaders(fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)))));

    it('invalid UTF-8 around valid JSON', () =>
      property(
        withHeaders(
          fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.nat(60)).map(([bytes, at]) => {
            const json = Buffer.from(
              JSON.stringify({
                message_id: uniqueId(),
                from: '+14155550100',
                to: '+14155550100',
                ts: '2025-01-15T10:00:00Z',
                text: 'é😀',
              }),
            );
            const invalid = Buffer.from(
              [0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80].slice(0, bytes.length + 2),
            );
            const cut = Math.min(at, json.length);
            return Buffer.concat([json.subarray(0, cut), invalid, json.subarray(cut)]);
          }),
        ),
      ));

    it('bodies around and over MAX_BODY_BYTES', () =>
      property(
        withHeaders(
          fc.integer({ min: MAX_BODY_BYTES - 50, max: MAX_BODY_BYTES + 5000 }).map((n) => {
            const head = JSON.stringify({
              message_id: uniqueId(),
              from: '+14155550100',
              to: '+14155550100',
              ts: '2025-01-15T10:00:00Z',
              pad: '',
            });
            return Buffer.from(`${head.slice(0, -2)}${'p'.repeat(Math.max(0, n - head.length))}"}`);
          }),
        ),
        Math.ceil(RUNS / 5),
      ));

    it('arbitrary JSON values', () =>
      property(withHeaders(fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')))));

    it('messages with fields missing, repeated, or of every wrong type', () =>
      property(withHeaders(mutatedMessage), RUNS * 3));

    it('deep nesting: 100k levels of [ (413 at the default limit; parsed under a 1 MB limit)', async () => {
      const json = (body: Buffer): Request => ({
        body,
        headers: { 'content-type': 'application/json', 'x-signature': sign(body) },
      });
      const head = `{"message_id":"${uniqueId()}","from":"+14155550100","to":"+14155550100","ts":"2025-01-15T10:00:00Z"`;
      const bodies = [
        Buffer.from('['.repeat(100_000)),
        Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
        Buffer.from(`${head},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
        Buffer.from(`${head},"x":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`),
        Buffer.from(`{"message_id":"x","a":${'{"a":'.repeat(50_000)}`),
      ];
      for (const body of bodies) await check(json(body));
      const large: Setup = { maxBodyBytes: 1 << 20, secret: SECRET };
      const roomy = await testApp({ kind, maxBodyBytes: large.maxBodyBytes, logLevel: 'error' });
      try {
        for (const body of bodies) await check(json(body), roomy, large);
      } finally {
        await roomy.close();
      }
    });

    it('without a secret: 413, 415 or 503, never anything else', async () => {
      const setup: Setup = { maxBodyBytes: MAX_BODY_BYTES, secret: null };
      const bare = await testApp({ kind, secret: null, logLevel: 'error' });
      try {
        await fc.assert(
          fc.asyncProperty(
            withHeaders(
              fc.oneof(
                fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
                mutatedMessage,
                fc.constant(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)),
              ),
            ),
            (request) => check(request, bare, setup),
          ),
          { numRuns: Math.ceil(RUNS / 3) },
        );
        const stats = (await bare.app.inject('/stats')).json();
        assert.equal(stats.total_messages, 0, 'nothing stored without a secret');
      } finally {
        await bare.close();
      }
    });

    it('valid random messages round-trip byte for byte', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(validMessageArb, async (m) => {
          // a sender of its own per case, to find the message again
          const from = `+1${String(++n).padStart(12, '0')}${String(Math.floor(Math.random() * 99)).padStart(2, '0')}`;
          const sent: Record<string, unknown> = { ...m, from };
          if (m.text === undefined) delete sent.text;
          const body = Buffer.from(JSON.stringify(sent));
          const headers = { 'content-type': 'application/json', 'x-signature': sign(body) };
          const want = expected({ body, headers });
          const repeated = valid.has(m.message_id);
          await check({ body, headers });
          assert.equal(want.status, 200, 'a valid message');
          const response = await t.app.inject(
            `/messages?from=${encodeURIComponent(from)}&limit=100`,
          );
          assert.equal(response.statusCode, 200, response.body);
          const listed = response.json().data as Record<string, unknown>[];
          // the first version of an id wins: a repeated random id keeps its first copy
          if (repeated) {
            assert.deepEqual(listed, [], 'a repeated id stores nothing new');
            return;
          }
          assert.deepEqual(listed, [{ ...sent, text: m.text ?? null }], 'read back as sent');
        }),
        { numRuns: RUNS },
      );
    });

    it('stored exactly the valid messages acknowledged, and nothing else', async (tc) => {
      const stats = (await t.app.inject('/stats')).json();
      tc.diagnostic(`${cases} fuzz cases sent; ${valid.size} distinct valid messages`);
      assert.equal(stats.total_messages, valid.size, 'stored = distinct valid ids sent');
      let listed = 0;
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const page = (await t.app.inject(`/messages?limit=100${query}`)).json();
        for (const row of page.data) {
          assert.ok(
            valid.has(row.message_id),
            `stored but never valid: ${JSON.stringify(row.message_id)}`,
          );
        }
        listed += page.data.length;
        cursor = page.next_cursor;
      } while (cursor !== null);
      assert.equal(listed, valid.size, 'listed = distinct valid ids sent');
    });
  });
}
