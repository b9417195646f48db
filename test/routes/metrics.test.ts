import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createMetrics } from '../../src/http/metrics.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { message, postWebhook, type TestApp, testApp } from '../helpers.js';

/** The samples of one metric: label string → value. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name) found.set(match[2] ?? '', Number(match[3]));
  }
  return found;
}

describe('GET /metrics', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  it('serves the Prometheus text format, every line a comment or a sample', async () => {
    await postWebhook(t.app, message());
    const response = await t.app.inject('/metrics');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const sample =
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="[^"]*",?)*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$/;
    for (const line of response.body.split('\n')) {
      if (line === '' || /^# (HELP|TYPE) \S+ .+$/.test(line)) continue;
      assert.match(line, sample);
    }
    assert.match(response.body, /^# TYPE http_requests_total counter$/m);
    assert.match(response.body, /^# TYPE webhook_requests_total counter$/m);
    assert.match(response.body, /^# TYPE http_request_duration_seconds histogram$/m);
  });

  it('counts requests by route template and status', async () => {
    await postWebhook(t.app, message());
    await postWebhook(t.app, message(), { headers: { 'x-signature': 'bad' } });
    await t.app.inject('/messages?limit=5');
    await t.app.inject('/messages?limit=500');
    await t.app.inject({ method: 'GET', url: '/webhook' });
    const requests = samples((await t.app.inject('/metrics')).body, 'http_requests_total');
    assert.equal(requests.get('{path="/webhook",status="200"}'), 1);
    assert.equal(requests.get('{path="/webhook",status="401"}'), 1);
    assert.equal(requests.get('{path="/webhook",status="405"}'), 1);
    assert.equal(requests.get('{path="/messages",status="200"}'), 1);
    assert.equal(requests.get('{path="/messages",status="422"}'), 1);
  });

  it('counts every webhook outcome, starting from zero', async () => {
    const before = samples((await t.app.inject('/metrics')).body, 'webhook_requests_total');
    for (const result of ['created', 'duplicate', 'invalid_signature', 'validation_error']) {
      assert.equal(before.get(`{result="${result}"}`), 0, result);
    }
    await postWebhook(t.app, message());
    await postWebhook(t.app, message());
    await postWebhook(t.app, message(), { headers: { 'x-signature': 'bad' } });
    await postWebhook(t.app, message({ from: 'x' }));
    await postWebhook(t.app, message(), { headers: { 'content-type': 'text/plain' } });
    const after = samples((await t.app.inject('/metrics')).body, 'webhook_requests_total');
    assert.equal(after.get('{result="created"}'), 1);
    assert.equal(after.get('{result="duplicate"}'), 1);
    assert.equal(after.get('{result="invalid_signature"}'), 1);
    assert.equal(after.get('{result="validation_error"}'), 1);
    assert.equal(after.get('{result="unsupported_media_type"}'), 1);
  });

  it('counts payload_too_large, unavailable and not_configured on /metrics', async () => {
    const before = samples((await t.app.inject('/metrics')).body, 'webhook_requests_total');
    for (const result of ['payload_too_large', 'unavailable', 'not_configured']) {
      assert.equal(before.get(`{result="${result}"}`), 0, `${result} starts at 0`);
    }
    const big = JSON.stringify(message({ text: 'x'.repeat(70_000) }));
    assert.equal((await postWebhook(t.app, big)).statusCode, 413);
    const original = t.store.insert.bind(t.store);
    t.store.insert = () =>
      Promise.reject(new StoreUnavailableError('SQLITE_BUSY: database is locked'));
    assert.equal((await postWebhook(t.app, message())).statusCode, 503);
    assert.equal((await postWebhook(t.app, message())).statusCode, 503);
    t.store.insert = original;
    const after = samples((await t.app.inject('/metrics')).body, 'webhook_requests_total');
    assert.equal(after.get('{result="payload_too_large"}'), 1);
    assert.equal(after.get('{result="unavailable"}'), 2);
    assert.equal(after.get('{result="not_configured"}'), 0);
    assert.equal(after.get('{result="created"}'), 0, 'nothing else counted');

    const unconfigured = await testApp({ secret: null });
    try {
      assert.equal((await postWebhook(unconfigured.app, message())).statusCode, 503);
      const counted = samples(
        (await unconfigured.app.inject('/metrics')).body,
        'webhook_requests_total',
      );
      assert.equal(counted.get('{result="not_configured"}'), 1);
      assert.equal(counted.get('{result="unavailable"}'), 0, 'not counted as unavailable');
    } finally {
      await unconfigured.close();
    }
  });

  it('records latency in seconds with buckets from 0.0005 to 10', async () => {
    await postWebhook(t.app, message());
    const text = (await t.app.inject('/metrics')).body;
    const buckets = samples(text, 'http_request_duration_seconds_bucket');
    for (const le of ['0.0005', '0.001', '0.01', '0.1', '1', '10', '+Inf']) {
      assert.ok(buckets.has(`{le="${le}",path="/webhook"}`), `bucket le=${le}`);
    }
    assert.equal(buckets.get('{le="+Inf",path="/webhook"}'), 1);
    assert.equal(samples(text, 'http_request_duration_seconds_count').get('{path="/webhook"}'), 1);
    const sum = samples(text, 'http_request_duration_seconds_sum').get('{path="/webhook"}') ?? -1;
    assert.ok(sum > 0 && sum < 10, `sum ${sum} is in seconds`);
  });

  it('gives every unmatched path one shared label, so random URLs add no series', async () => {
    for (let i = 0; i < 50; i++) await t.app.inject(`/random/${i}/${Math.random()}`);
    await t.app.inject({
      method: 'POST',
      url: '/nope',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
    const requests = samples((await t.app.inject('/metrics')).body, 'http_requests_total');
    const unmatched = [...requests.keys()].filter((labels) => !/path="\//.test(labels));
    assert.deepEqual(unmatched, ['{path="unmatched",status="404"}']);
    assert.equal(requests.get('{path="unmatched",status="404"}'), 51);
  });
});

describe('metric names', () => {
  it('follow Prometheus conventions: only counters end in _total (promtool checks this)', async () => {
    const metrics = createMetrics();
    const types = [...(await metrics.registry.metrics()).matchAll(/^# TYPE (\S+) (\S+)$/gm)];
    assert.ok(types.length > 20, `process metrics are included (${types.length})`);
    for (const [, name, type] of types) {
      assert.equal(name?.endsWith('_total'), type === 'counter', `${name} is a ${type}`);
    }
  });
});
