import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sign } from '../src/signature.js';
import { message, postWebhook, SECRET, type TestApp, testApp } from './helpers.js';

describe('request log lines', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  it('writes exactly one JSON line per request, with the contract fields', async () => {
    await postWebhook(t.app, message());
    await t.app.inject('/messages?q=secret-search&limit=5');
    await t.app.inject('/stats');
    await t.app.inject('/does/not/exist');
    await t.app.inject('/health/live');
    const lines = t.logs.requests();
    assert.equal(lines.length, 5);
    assert.equal(t.logs.lines.length, 5, 'no other lines');
    for (const line of lines) {
      assert.match(String(line.ts), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.equal(line.level, 'INFO');
      assert.equal(typeof line.request_id, 'string');
      assert.equal(typeof line.method, 'string');
      assert.equal(typeof line.status, 'number');
      assert.equal(typeof line.latency_ms, 'number');
    }
    assert.deepEqual(
      lines.map((l) => [l.method, l.path, l.status]),
      [
        ['POST', '/webhook', 200],
        ['GET', '/messages', 200],
        ['GET', '/stats', 200],
        ['GET', '/does/not/exist', 404],
        ['GET', '/health/live', 200],
      ],
    );
    // webhook fields only on webhook lines
    assert.equal(lines[0]?.message_id, 'm1');
    assert.equal(lines[0]?.dup, false);
    assert.equal(lines[0]?.result, 'created');
    assert.equal('result' in (lines[1] ?? {}), false);
  });

  it('logs 401 and 5xx at ERROR, other 4xx at INFO', async () => {
    await postWebhook(t.app, message(), { headers: { 'x-signature': 'nope' } });
    await postWebhook(t.app, message({ ts: 'bad' }));
    await t.app.inject('/messages?limit=0');
    t.store.stats = () => Promise.reject(new Error('broken'));
    await t.app.inject('/stats');
    assert.deepEqual(
      t.logs.requests().map((l) => [l.status, l.level]),
      [
        [401, 'ERROR'],
        [422, 'INFO'],
        [422, 'INFO'],
        [500, 'ERROR'],
      ],
    );
    assert.equal(t.logs.requests()[3]?.error, 'Error: broken');
  });

  it('reuses a well-formed X-Request-ID and replaces any other', async () => {
    const cases: [string | undefined, boolean][] = [
      ['abc-123', true],
      ['A.b_c:d-1', true],
      ['x'.repeat(128), true],
      ['x'.repeat(129), false],
      ['', false],
      ['has space', false],
      ['naïve', false],
      ['a/b', false],
      [undefined, false],
    ];
    for (const [given, kept] of cases) {
      const response = await t.app.inject({
        url: '/health/live',
        headers: given === undefined ? {} : { 'x-request-id': given },
      });
      const id = response.headers['x-request-id'];
      assert.equal(typeof id, 'string');
      if (kept) assert.equal(id, given);
      else assert.match(String(id), /^[0-9a-f-]{36}$/, `replaced ${given}`);
      assert.equal(t.logs.requests().at(-1)?.request_id, id);
    }
  });

  it('sends X-Request-ID on error answers too, the id of their log line', async () => {
    const unconfigured = await testApp({ secret: null });
    try {
      type Answer = { statusCode: number; headers: Record<string, unknown> };
      type Ask = (headers: Record<string, string>) => Promise<Answer>;
      const signature = { 'x-signature': 'nope' };
      const plain = { 'content-type': 'text/plain' };
      const big = message({ text: 'x'.repeat(70_000) });
      /** each error answer, asked with the headers given (an X-Request-ID, or none) */
      const cases: [number, TestApp, Ask][] = [
        [401, t, (h) => postWebhook(t.app, message(), { headers: { ...signature, ...h } })],
        [413, t, (h) => postWebhook(t.app, big, { headers: h })],
        [415, t, (h) => postWebhook(t.app, message(), { headers: { ...plain, ...h } })],
        [422, t, (h) => postWebhook(t.app, message({ ts: 'bad' }), { headers: h })],
        [404, t, (h) => t.app.inject({ url: '/nope', headers: h })],
        [405, t, (h) => t.app.inject({ method: 'GET', url: '/webhook', headers: h })],
        [503, unconfigured, (h) => postWebhook(unconfigured.app, message(), { headers: h })],
      ];
      for (const [status, app, ask] of cases) {
        const given = `error-${status}`;
        const reused = await ask({ 'x-request-id': given });
        assert.equal(reused.statusCode, status);
        assert.equal(reused.headers['x-request-id'], given, `${status}: the id sent is reused`);
        assert.equal(app.logs.requests().at(-1)?.request_id, given, `${status}: and logged`);
        const fresh = await ask({});
        assert.equal(fresh.statusCode, status);
        const id = String(fresh.headers['x-request-id']);
        assert.match(id, /^[0-9a-f-]{36}$/, `${status}: a fresh id`);
        assert.equal(app.logs.requests().at(-1)?.request_id, id, `${status}: and logged`);
      }
    } finally {
      await unconfigured.close();
    }
  });

  it('never logs the secret, a signature, the query string or message text', async () => {
    const text = 'very private words';
    const body = JSON.stringify(message({ text }));
    const signature = sign(SECRET, body);
    await postWebhook(t.app, body);
    await postWebhook(t.app, body, { headers: { 'x-signature': `${signature.slice(0, 60)}beef` } });
    await postWebhook(t.app, JSON.stringify(message({ text, from: 'bad' })));
    await t.app.inject(`/messages?q=${encodeURIComponent(text)}`);
    const all = t.logs.raw.join('');
    for (const secret of [SECRET, signature, signature.slice(0, 60), text, 'private']) {
      assert.equal(all.includes(secret), false, `log contains ${secret}`);
    }
  });
});

describe('LOG_LEVEL', () => {
  it('filters request lines like any other', async () => {
    const t = await testApp({ logLevel: 'error' });
    try {
      await postWebhook(t.app, message());
      await postWebhook(t.app, message(), { headers: { 'x-signature': 'bad' } });
      assert.deepEqual(
        t.logs.lines.map((l) => [l.level, l.status]),
        [['ERROR', 401]],
      );
    } finally {
      await t.close();
    }
  });
});
