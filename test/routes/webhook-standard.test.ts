import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { DETAIL } from '../../src/http/errors.js';
import { sign } from '../../src/signature.js';
import type { StandardWebhooksOptions } from '../../src/standard-webhooks.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import {
  message,
  postWebhook,
  SECRET,
  type StoreKind,
  storeKinds,
  type TestApp,
  testApp,
} from '../helpers.js';

/**
 * POST /webhook with Standard Webhooks signatures (SPEC part 2, "Real senders: Standard
 * Webhooks"), on every store. The official `standardwebhooks` package is the sender. The
 * service's clock is fixed at NOW, so that the tolerance edges are exact.
 */

const KEY = `whsec_${randomBytes(32).toString('base64')}`;
const OLD_KEY = `whsec_${randomBytes(24).toString('base64')}`;
const NOW = 1_750_000_000;
const FIXED: StandardWebhooksOptions = { secret: KEY, now: () => NOW * 1000 + 500 };

const STANDARD_DETAILS = [
  DETAIL.invalidSignature,
  DETAIL.missingWebhookId,
  DETAIL.missingWebhookTimestamp,
  DETAIL.missingWebhookSignature,
  DETAIL.invalidWebhookTimestamp,
  DETAIL.timestampOutsideTolerance,
];

type Headers = Record<string, string>;

/** The three headers the official package's signature goes in, for `body` sent at `at`. */
function signed(
  body: string,
  options: { key?: string; id?: string; at?: number } = {},
): Headers & { 'webhook-signature': string } {
  const id = options.id ?? `msg_${randomBytes(12).toString('base64url')}`;
  const at = options.at ?? NOW;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(at),
    'webhook-signature': new Webhook(options.key ?? KEY).sign(id, new Date(at * 1000), body),
  };
}

/** POSTs `body` as JSON with exactly `headers` (no X-Signature unless given). */
function post(app: FastifyInstance, body: string | Record<string, unknown>, headers: Headers) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return app.inject({
    method: 'POST',
    url: '/webhook',
    payload,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function stored(t: TestApp): Promise<string[]> {
  return (await t.store.list({}, { limit: 100, offset: 0 })).data.map((m) => m.message_id);
}

function webhookLines(t: TestApp) {
  return t.logs.requests().filter((line) => line.path === '/webhook');
}

/** The value of one sample of /metrics, or undefined. */
async function sample(app: FastifyInstance, series: string): Promise<number | undefined> {
  const text = (await app.inject('/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function assert401(response: { statusCode: number; body: string }, detail: string, label = '') {
  assert.equal(response.statusCode, 401, `${label} ${response.body}`);
  assert.deepEqual(JSON.parse(response.body), { detail }, label);
}

for (const kind of storeKinds()) {
  describe(`POST /webhook with Standard Webhooks (${kind.name})`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind, standardWebhooks: FIXED });
    });
    afterEach(() => t.close());

    it('accepts a message the official package signs now, on the real clock', async () => {
      const live = await testApp({ kind, standardWebhooks: { secret: KEY } });
      try {
        const body = JSON.stringify(message({ message_id: 'official' }));
        const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
        const now = new Date();
        const headers = {
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(KEY).sign(id, now, body),
        };
        const response = await post(live.app, body, headers);
        assert.equal(response.statusCode, 200, response.body);
        assert.deepEqual(response.json(), { status: 'ok' });
        assert.deepEqual(await stored(live), ['official']);
      } finally {
        await live.close();
      }
    });

    it('logs scheme=standard-webhooks and counts it, keeping webhook_requests_total as it was', async () => {
      const body = JSON.stringify(message());
      assert.equal((await post(t.app, body, signed(body))).statusCode, 200);
      assert.equal((await postWebhook(t.app, message({ message_id: 'x' }))).statusCode, 200);
      const [standard, hmac] = webhookLines(t);
      assert.deepEqual(
        [standard?.level, standard?.result, standard?.scheme, standard?.message_id],
        ['INFO', 'created', 'standard-webhooks', 'm1'],
      );
      assert.deepEqual([hmac?.result, hmac?.scheme], ['created', 'x-signature']);
      const scheme = 'webhook_signature_scheme_total';
      assert.equal(await sample(t.app, `${scheme}{scheme="standard-webhooks"}`), 1);
      assert.equal(await sample(t.app, `${scheme}{scheme="x-signature"}`), 1);
      assert.equal(await sample(t.app, 'webhook_requests_total{result="created"}'), 2);
    });

    it('accepts timestamps exactly 300 s away, either way, and refuses 301', async () => {
      for (const [offset, status] of [
        [0, 200],
        [300, 200],
        [-300, 200],
        [301, 401],
        [-301, 401],
        [86_400, 401],
        [-NOW, 401],
      ] as const) {
        const body = JSON.stringify(message({ message_id: `at${offset}` }));
        const response = await post(t.app, body, signed(body, { at: NOW + offset }));
        if (status === 200) assert.equal(response.statusCode, 200, `${offset}: ${response.body}`);
        else assert401(response, DETAIL.timestampOutsideTolerance, String(offset));
      }
      assert.deepEqual((await stored(t)).sort(), ['at-300', 'at0', 'at300']);
    });

    it('follows STANDARD_WEBHOOKS_TOLERANCE_S', async () => {
      const narrow = await testApp({ kind, standardWebhooks: { ...FIXED, toleranceSeconds: 5 } });
      try {
        for (const [offset, status] of [
          [5, 200],
          [-5, 200],
          [6, 401],
          [-6, 401],
        ] as const) {
          const body = JSON.stringify(message({ message_id: `n${offset}` }));
          const response = await post(narrow.app, body, signed(body, { at: NOW + offset }));
          assert.equal(response.statusCode, status, String(offset));
        }
      } finally {
        await narrow.close();
      }
    });

    it('a replay inside the window stores nothing new: the message_id is already stored', async () => {
      const body = JSON.stringify(message({ text: 'first' }));
      const headers = signed(body, { at: NOW - 100 });
      const first = await post(t.app, body, headers);
      const replay = await post(t.app, body, headers);
      assert.deepEqual([first.statusCode, replay.statusCode], [200, 200]);
      assert.deepEqual(await stored(t), ['m1']);
      assert.deepEqual(
        webhookLines(t).map((l) => [l.result, l.dup]),
        [
          ['created', false],
          ['duplicate', true],
        ],
      );
      // a new delivery id and timestamp do not make it new either: message_id decides
      const again = JSON.stringify(message({ text: 'second' }));
      assert.equal((await post(t.app, again, signed(again))).statusCode, 200);
      const [row] = (await t.store.list({}, { limit: 10, offset: 0 })).data;
      assert.equal(row?.text, 'first');
    });

    it('accepts both keys during a rotation, one or both signatures in the header', async () => {
      const rotating = await testApp({
        kind,
        standardWebhooks: { ...FIXED, previousSecret: OLD_KEY },
      });
      try {
        const cases: [string, (body: string) => Headers, number][] = [
          ['new key', (body) => signed(body), 200],
          ['old key', (body) => signed(body, { key: OLD_KEY }), 200],
          [
            'both, old first',
            (body) => {
              const headers = signed(body, { key: OLD_KEY, id: 'msg_both' });
              const current = signed(body, { id: 'msg_both' })['webhook-signature'];
              return {
                ...headers,
                'webhook-signature': `${headers['webhook-signature']} ${current}`,
              };
            },
            200,
          ],
          ['an unknown key', (body) => signed(body, { key: `whsec_${'A'.repeat(32)}` }), 401],
        ];
        for (const [what, headers, status] of cases) {
          const body = JSON.stringify(message({ message_id: what }));
          const response = await post(rotating.app, body, headers(body));
          assert.equal(response.statusCode, status, `${what}: ${response.body}`);
        }
        assert.equal((await stored(rotating)).length, 3);
        // without the previous key, the old one is refused
        const body = JSON.stringify(message({ message_id: 'late' }));
        assert401(await post(t.app, body, signed(body, { key: OLD_KEY })), DETAIL.invalidSignature);
      } finally {
        await rotating.close();
      }
    });

    it('answers each failure with a 401 naming its cause, stores nothing, logs ERROR', async () => {
      const body = JSON.stringify(message());
      const good = signed(body);
      const without = (name: string) => {
        const headers: Headers = { ...good };
        delete headers[name];
        return headers;
      };
      const v1a = `v1a,${randomBytes(64).toString('base64')}`;
      const cases: [string, Headers, string][] = [
        ['a wrong key', signed(body, { key: OLD_KEY }), DETAIL.invalidSignature],
        ['no webhook-id', without('webhook-id'), DETAIL.missingWebhookId],
        ['no webhook-timestamp', without('webhook-timestamp'), DETAIL.missingWebhookTimestamp],
        ['an empty webhook-id', { ...good, 'webhook-id': '' }, DETAIL.missingWebhookId],
        [
          'an empty signature',
          { ...good, 'webhook-signature': '' },
          DETAIL.missingWebhookSignature,
        ],
        ['v1a only', { ...good, 'webhook-signature': v1a }, DETAIL.invalidSignature],
        ['milliseconds', signed(body, { at: NOW * 1000 }), DETAIL.timestampOutsideTolerance],
        [
          'an ISO timestamp',
          { ...good, 'webhook-timestamp': new Date(NOW * 1000).toISOString() },
          DETAIL.invalidWebhookTimestamp,
        ],
        [
          'a negative timestamp',
          { ...good, 'webhook-timestamp': `-${NOW}` },
          DETAIL.invalidWebhookTimestamp,
        ],
        ['another id', { ...good, 'webhook-id': 'msg_other' }, DETAIL.invalidSignature],
        [
          'hex instead of base64',
          {
            ...good,
            'webhook-signature': `v1,${Buffer.from(good['webhook-signature'].slice(3), 'base64').toString('hex')}`,
          },
          DETAIL.invalidSignature,
        ],
      ];
      for (const [what, headers, detail] of cases) {
        const response = await post(t.app, body, headers);
        assert401(response, detail, what);
        for (const secret of [KEY, KEY.slice(6), good['webhook-signature'].slice(3)]) {
          assert.ok(!response.body.includes(secret), `${what}: the answer echoes nothing secret`);
        }
      }
      // with no header of the scheme but X-Signature's, the X-Signature rule applies
      assert401(await post(t.app, body, without('webhook-signature')), DETAIL.invalidSignature);
      assert.deepEqual(await stored(t), []);
      const lines = webhookLines(t);
      assert.equal(lines.length, cases.length + 1);
      for (const line of lines) {
        assert.deepEqual(
          [line.level, line.status, line.result, line.dup, 'message_id' in line, 'scheme' in line],
          ['ERROR', 401, 'invalid_signature', false, false, false],
        );
      }
      const raw = t.logs.raw.join('\n');
      for (const secret of [KEY.slice(6), good['webhook-signature'].slice(3), v1a.slice(4)]) {
        assert.ok(!raw.includes(secret), 'no key or signature in the log');
      }
      assert.equal(
        await sample(t.app, 'webhook_requests_total{result="invalid_signature"}'),
        lines.length,
      );
      assert.equal(
        await sample(t.app, 'webhook_signature_scheme_total{scheme="standard-webhooks"}'),
        0,
      );
    });

    it('checks size and content type first, and the body after the signature', async () => {
      const small = await testApp({ kind, standardWebhooks: FIXED, maxBodyBytes: 100 });
      try {
        const big = JSON.stringify(message({ text: 'x'.repeat(200) }));
        assert.equal((await post(small.app, big, signed(big))).statusCode, 413);
        assert.equal((await post(small.app, big, { 'webhook-signature': 'v1,x' })).statusCode, 413);
      } finally {
        await small.close();
      }
      const body = JSON.stringify(message());
      const wrongType = await post(t.app, body, { ...signed(body), 'content-type': 'text/plain' });
      assert.equal(wrongType.statusCode, 415);
      const invalid = JSON.stringify(message({ from: 'nobody' }));
      const unprocessable = await post(t.app, invalid, signed(invalid));
      assert.equal(unprocessable.statusCode, 422);
      assert.deepEqual(unprocessable.json().detail[0].loc, ['body', 'from']);
      const notJson = '{"message_id": ';
      assert.equal((await post(t.app, notJson, signed(notJson))).statusCode, 422);
      assert.deepEqual(await stored(t), []);
      const [line] = webhookLines(t).filter((l) => l.status === 422);
      assert.deepEqual([line?.scheme, line?.message_id], ['standard-webhooks', 'm1']);
    });

    describe('a request carrying both X-Signature and webhook-signature', () => {
      it('is verified by Standard Webhooks alone when it is configured', async () => {
        const body = JSON.stringify(message({ message_id: 'both-1' }));
        const wrongX = await post(t.app, body, { ...signed(body), 'x-signature': '00' });
        assert.equal(wrongX.statusCode, 200, 'a wrong X-Signature is ignored');
        const other = JSON.stringify(message({ message_id: 'both-2' }));
        const goodX = await post(t.app, other, {
          ...signed(other, { key: OLD_KEY }),
          'x-signature': sign(SECRET, other),
        });
        assert401(goodX, DETAIL.invalidSignature);
        assert.deepEqual(await stored(t), ['both-1']);
        assert.equal(webhookLines(t)[0]?.scheme, 'standard-webhooks');
      });

      it('is verified by X-Signature alone when Standard Webhooks is not configured', async () => {
        const plain = await testApp({ kind });
        try {
          const body = JSON.stringify(message({ message_id: 'plain-1' }));
          const withBoth = await postWebhook(plain.app, body, {
            headers: { ...signed(body), 'webhook-signature': 'v1,garbage' },
          });
          assert.equal(withBoth.statusCode, 200, 'webhook-signature is ignored');
          const other = JSON.stringify(message({ message_id: 'plain-2' }));
          assert401(await post(plain.app, other, signed(other)), DETAIL.invalidSignature);
          assert.deepEqual(await stored(plain), ['plain-1']);
          assert.equal(
            await sample(plain.app, 'webhook_signature_scheme_total{scheme="x-signature"}'),
            1,
          );
        } finally {
          await plain.close();
        }
      });
    });

    describe('a Standard-Webhooks-only deployment (no WEBHOOK_SECRET)', () => {
      let only: TestApp;
      beforeEach(async () => {
        only = await testApp({ kind, secret: null, standardWebhooks: FIXED });
      });
      afterEach(() => only.close());

      it('is ready and accepts Standard Webhooks; X-Signature requests get 503 not configured', async () => {
        const ready = await only.app.inject('/health/ready');
        assert.equal(ready.statusCode, 200);
        assert.equal(ready.body, '{"status":"ok"}');
        const body = JSON.stringify(message());
        assert.equal((await post(only.app, body, signed(body))).statusCode, 200);
        const x = await postWebhook(only.app, message({ message_id: 'x' }));
        assert.equal(x.statusCode, 503);
        assert.deepEqual(x.json(), { detail: DETAIL.secretNotConfigured });
        assert.deepEqual(
          only.logs.requests().map((l) => [l.path, l.result]),
          [
            ['/health/ready', undefined],
            ['/webhook', 'created'],
            ['/webhook', 'not_configured'],
          ],
        );
      });

      it('counts a verified request the store cannot take as unavailable, not not_configured', async () => {
        only.store.insert = () => Promise.reject(new StoreUnavailableError('locked'));
        const body = JSON.stringify(message());
        const response = await post(only.app, body, signed(body));
        assert.equal(response.statusCode, 503);
        assert.equal(response.headers['retry-after'], '1');
        assert.equal(webhookLines(only)[0]?.result, 'unavailable');
      });
    });

    it('never answers 5xx to any three headers, and stores only what verified', async () => {
      await fuzzHeaders(kind);
    });
  });
}

describe('readiness without any secret', () => {
  it('names both variables', async () => {
    const t = await testApp({ secret: null });
    try {
      const ready = await t.app.inject('/health/ready');
      assert.equal(ready.statusCode, 503);
      assert.equal(
        ready.json().checks.secret,
        'neither WEBHOOK_SECRET nor STANDARD_WEBHOOKS_SECRET is set',
      );
    } finally {
      await t.close();
    }
  });
});

describe('metrics and OpenAPI for Standard Webhooks', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp({ standardWebhooks: FIXED });
  });
  afterEach(() => t.close());

  it('starts both scheme series at 0 and keeps webhook_requests_total labels as they were', async () => {
    const text = (await t.app.inject('/metrics')).body;
    assert.match(text, /^# TYPE webhook_signature_scheme_total counter$/m);
    const series = text.split('\n').filter((l) => l.startsWith('webhook_signature_scheme_total'));
    assert.deepEqual(series.sort(), [
      'webhook_signature_scheme_total{scheme="standard-webhooks"} 0',
      'webhook_signature_scheme_total{scheme="x-signature"} 0',
    ]);
    const results = text
      .split('\n')
      .filter((l) => l.startsWith('webhook_requests_total{'))
      .map((l) => /result="([^"]*)"/.exec(l)?.[1]);
    assert.deepEqual(results, [
      'created',
      'duplicate',
      'invalid_signature',
      'validation_error',
      'payload_too_large',
      'unsupported_media_type',
      'method_not_allowed',
      'not_configured',
      'unavailable',
      'error',
    ]);
  });

  it('documents the three headers and every 401 detail, and the answers match it', async () => {
    const doc = (await t.app.inject('/docs/json')).json();
    const post = doc.paths['/webhook'].post;
    const parameters = post.parameters as { name: string; in: string; description?: string }[];
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const parameter = parameters.find((p) => p.name === name);
      assert.equal(parameter?.in, 'header', name);
      assert.match(parameter?.description ?? '', /Standard Webhooks/, name);
    }
    const media = post.responses['401'].content['application/json'];
    const examples = JSON.stringify([media.schema?.examples, media.examples]);
    for (const detail of STANDARD_DETAILS) {
      assert.ok(examples.includes(JSON.stringify(detail)), `401 documents "${detail}"`);
    }
  });
});

// ---- the property ----

/** A header value of any kind: missing, empty, unicode, huge, or made of many entries. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 16 }),
  fc.constant(''),
  fc.integer({ min: 10_000, max: 60_000 }).map((n) => 'x'.repeat(n)),
);

const entry = fc.oneof(
  fc.constant('valid'),
  fc.constant('old'),
  fc.base64String({ minLength: 40, maxLength: 48 }).map((b) => `v1,${b}`),
  fc.base64String({ minLength: 84, maxLength: 88 }).map((b) => `v1a,${b}`),
  anyText,
);

const request = fc.record({
  id: fc.option(
    fc.oneof({ arbitrary: fc.stringMatching(/^msg_[A-Za-z0-9]{1,30}$/), weight: 3 }, anyText),
    { nil: undefined },
  ),
  timestamp: fc.option(
    fc.oneof(
      {
        arbitrary: fc.integer({ min: -400, max: 400 }).map((offset) => String(NOW + offset)),
        weight: 3,
      },
      fc.constantFrom('0', '00', '9'.repeat(5000), `0${NOW}`, `${NOW}.0`),
      anyText,
    ),
    { nil: undefined },
  ),
  entries: fc.option(fc.array(entry, { maxLength: 300 }), { nil: undefined }),
  separator: fc.constantFrom(' ', '  ', ',', '\t'),
  xSignature: fc.boolean(),
});

async function fuzzHeaders(kind: StoreKind): Promise<void> {
  const t = await testApp({ kind, standardWebhooks: { ...FIXED, previousSecret: OLD_KEY } });
  let n = 0;
  const created: string[] = [];
  let standard = 0;
  try {
    await fc.assert(
      fc.asyncProperty(request, async ({ id, timestamp, entries, separator, xSignature }) => {
        n += 1;
        const messageId = `fuzz-${n}`;
        const body = JSON.stringify(message({ message_id: messageId }));
        const at = timestamp === undefined ? Number.NaN : Number(timestamp);
        const signature = (key: string) =>
          new Webhook(key).sign(id ?? '', new Date(at * 1000), body);
        const headers: Headers = {};
        if (id !== undefined) headers['webhook-id'] = id;
        if (timestamp !== undefined) headers['webhook-timestamp'] = timestamp;
        if (entries !== undefined) {
          headers['webhook-signature'] = entries
            .map((e) => (e === 'valid' ? signature(KEY) : e === 'old' ? signature(OLD_KEY) : e))
            .join(separator);
        }
        if (xSignature) headers['x-signature'] = sign(SECRET, body);
        const response = await post(t.app, body, headers);

        // the oracle: the rule of SPEC part 2, from the headers sent
        const canonical =
          timestamp !== undefined && /^[1-9][0-9]*$/.test(timestamp) && String(at) === timestamp;
        const verifies =
          entries === undefined
            ? xSignature
            : id !== undefined &&
              id !== '' &&
              [...id].every((c) => c.charCodeAt(0) < 0x80) &&
              canonical &&
              Math.abs(at - NOW) <= 300 &&
              entries.some((e) => e === 'valid' || e === 'old') &&
              // entries are separated by spaces; with anything else only a lone one stands
              (/^ +$/.test(separator) || entries.length === 1);
        assert.ok(response.statusCode < 500, `${response.statusCode} ${response.body}`);
        if (verifies) {
          assert.equal(response.statusCode, 200, response.body);
          created.push(messageId);
          if (entries !== undefined) standard += 1;
        } else {
          assert.equal(response.statusCode, 401, response.body);
          assert.ok(STANDARD_DETAILS.includes(response.json().detail), response.body);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150) },
    );
    const page = await t.store.list({}, { limit: 100, offset: 0 });
    assert.equal(page.total, created.length);
    assert.ok(standard > 0, 'some requests verified by Standard Webhooks');
  } finally {
    await t.close();
  }
}
