import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fixtureBytes } from '../fixtures/whatsapp/index.js';
import { APP_SECRET, envelope, postWhatsapp, textItem } from '../harness/whatsapp.js';
import { storeKinds, type TestApp, testApp } from '../helpers.js';

/** POST /webhooks/whatsapp: the order of checks, refusals that store nothing, logs, metrics. */

const total = async (t: TestApp) => (await t.app.inject('/messages')).json().total as number;
const statusTotal = async (t: TestApp) => (await t.app.inject('/statuses')).json().total as number;
const lines = (t: TestApp) =>
  t.logs.requests().filter((line) => line.path === '/webhooks/whatsapp');

for (const kind of storeKinds()) {
  describe(`POST /webhooks/whatsapp checks (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({
        kind,
        whatsapp: {
          appSecret: APP_SECRET,
          previousAppSecret: 'previous-secret',
          maxBodyBytes: 4096,
        },
      });
    });
    afterEach(() => t.close());

    it('checks size, then content type, then signature, then the delivery', async () => {
      const big = JSON.stringify(envelope([textItem('big', 'x'.repeat(5000))]));
      const cases: [Record<string, string>, string, number][] = [
        // too large, unsigned and of another type: 413 first
        [{ 'content-type': 'text/plain', 'x-hub-signature-256': 'sha256=00' }, big, 413],
        [{ 'content-type': 'text/plain', 'x-hub-signature-256': 'sha256=00' }, '{}', 415],
        [{ 'x-hub-signature-256': 'sha256=00' }, '{"object": 1}', 401],
        [{}, '{"object": 1}', 422],
      ];
      for (const [headers, body, status] of cases) {
        const response = await postWhatsapp(t.app, body, { headers });
        assert.equal(response.statusCode, status, `${JSON.stringify(headers)}: ${response.body}`);
      }
      assert.equal(await total(t), 0);
    });

    it('verifies only the raw bytes: \\u00e9 escapes verify, the re-serialised body does not', async () => {
      const raw = fixtureBytes('text');
      assert.ok(raw.toString('utf8').includes('\\u00e9'), 'the fixture escapes é');
      const reserialised = JSON.stringify(JSON.parse(raw.toString('utf8')));
      assert.equal((await postWhatsapp(t.app, raw)).statusCode, 200);
      const wrong = await postWhatsapp(t.app, reserialised, {
        headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      });
      assert.equal(wrong.statusCode, 401);
      // the raw bytes signed, the re-serialised bytes sent: refused
      const { hubSignature } = await import('../../src/whatsapp/signature.js');
      const mismatch = await postWhatsapp(t.app, reserialised, {
        headers: { 'x-hub-signature-256': hubSignature(APP_SECRET, raw) },
      });
      assert.equal(mismatch.statusCode, 401);
      assert.deepEqual(mismatch.json(), { detail: 'invalid signature' });
      assert.equal(await total(t), 1, 'only the raw delivery was stored');
    });

    it('accepts the previous app secret and hex in either case; refuses other forms', async () => {
      const { hubSignature } = await import('../../src/whatsapp/signature.js');
      const body = JSON.stringify(envelope([textItem('rotated')]));
      const previous = await postWhatsapp(t.app, body, { secret: 'previous-secret' });
      assert.equal(previous.statusCode, 200);
      const body2 = JSON.stringify(envelope([textItem('upper')]));
      const upper = `sha256=${hubSignature(APP_SECRET, body2).slice(7).toUpperCase()}`;
      const upperOk = await postWhatsapp(t.app, body2, {
        headers: { 'x-hub-signature-256': upper },
      });
      assert.equal(upperOk.statusCode, 200);
      const good = hubSignature(APP_SECRET, body).slice(7);
      for (const header of [good, `SHA256=${good}`, `sha256= ${good}`, `sha1=${good}`, 'sha256=']) {
        const response = await postWhatsapp(t.app, JSON.stringify(envelope([textItem('x')])), {
          headers: { 'x-hub-signature-256': header },
        });
        assert.equal(response.statusCode, 401, header);
      }
      assert.equal(await total(t), 2);
    });

    it('refuses a delivery whose 600th item lacks an id: 422 pointing at it, nothing stored', async () => {
      const items = Array.from({ length: 1000 }, (_, i) => textItem(`batch-${i}`));
      delete (items[599] as { id?: string }).id;
      const statuses = [
        { id: 'out-1', status: 'sent', timestamp: '1764669660', recipient_id: '1' },
      ];
      // 1000 items exceed this app's 4096-byte limit: 413 before anything else
      const response = await postWhatsapp(t.app, envelope(items, statuses));
      assert.equal(response.statusCode, 413);
      const roomy = await testApp({ kind, whatsapp: { appSecret: APP_SECRET } });
      try {
        const refused = await postWhatsapp(roomy.app, envelope(items, statuses));
        assert.equal(refused.statusCode, 422);
        assert.deepEqual(refused.json(), {
          detail: [
            {
              loc: ['body', 'entry', 0, 'changes', 0, 'value', 'messages', 599, 'id'],
              msg: 'id is required: a non-empty string',
              type: 'missing',
            },
          ],
        });
        assert.equal(await total(roomy), 0);
        assert.equal(await statusTotal(roomy), 0);
      } finally {
        await roomy.close();
      }
    });

    it('refuses timestamps that are not whole unix seconds, and statuses without id or status', async () => {
      const bad = [
        '1764669660.5',
        '-1',
        '',
        ' 1',
        '0x10',
        '1e9',
        1.5,
        -3,
        null,
        true,
        '99999999999999',
      ];
      for (const timestamp of bad) {
        const response = await postWhatsapp(t.app, envelope([{ ...textItem('t'), timestamp }]));
        assert.equal(response.statusCode, 422, JSON.stringify(timestamp));
        assert.deepEqual(response.json().detail[0].loc, [
          'body',
          'entry',
          0,
          'changes',
          0,
          'value',
          'messages',
          0,
          'timestamp',
        ]);
      }
      for (const timestamp of ['1764669660', 1764669660, '0001764669660', 0]) {
        const id = `ok-${String(timestamp)}`;
        const response = await postWhatsapp(t.app, envelope([{ ...textItem(id), timestamp }]));
        assert.equal(response.statusCode, 200, JSON.stringify(timestamp));
      }
      const noStatus = await postWhatsapp(
        t.app,
        envelope(
          [],
          [
            { id: 's1', timestamp: '1', recipient_id: '1' },
            { status: 'sent', timestamp: '1' },
          ],
        ),
      );
      assert.equal(noStatus.statusCode, 422);
      assert.deepEqual(
        noStatus.json().detail.map((issue: { loc: unknown[] }) => issue.loc.slice(-2)),
        [
          [0, 'status'],
          [1, 'id'],
        ],
      );
      assert.equal(await statusTotal(t), 0);
      assert.equal(await total(t), 3, 'three distinct ids among the accepted timestamps');
    });

    it('refuses envelopes that are not WhatsApp deliveries, naming where', async () => {
      const cases: [unknown, (string | number)[]][] = [
        [[], ['body']],
        ['text', ['body']],
        [{ entry: [] }, ['body', 'object']],
        [{ object: 'page', entry: [] }, ['body', 'object']],
        [{ object: 'whatsapp_business_account' }, ['body', 'entry']],
        [
          { object: 'whatsapp_business_account', entry: [{ changes: [] }] },
          ['body', 'entry', 0, 'id'],
        ],
        [
          { object: 'whatsapp_business_account', entry: [{ id: '1' }] },
          ['body', 'entry', 0, 'changes'],
        ],
        [
          { object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ value: {} }] }] },
          ['body', 'entry', 0, 'changes', 0, 'field'],
        ],
        [
          {
            object: 'whatsapp_business_account',
            entry: [{ id: '1', changes: [{ field: 'messages', value: { messages: {} } }] }],
          },
          ['body', 'entry', 0, 'changes', 0, 'value', 'messages'],
        ],
      ];
      for (const [body, loc] of cases) {
        const response = await postWhatsapp(t.app, JSON.stringify(body));
        assert.equal(response.statusCode, 422, JSON.stringify(body));
        assert.deepEqual(response.json().detail[0].loc, loc, JSON.stringify(body));
      }
      for (const raw of ['{', '\xff', '']) {
        const response = await postWhatsapp(t.app, Buffer.from(raw, 'latin1'));
        assert.equal(response.statusCode, 422, raw);
        assert.deepEqual(response.json().detail[0].loc, ['body']);
      }
    });

    it('logs one line per request with counts and outcome, never text, secret or signature', async () => {
      const body = JSON.stringify(envelope([textItem('logged', 'very private words')]));
      const { hubSignature } = await import('../../src/whatsapp/signature.js');
      const signature = hubSignature(APP_SECRET, body);
      await postWhatsapp(t.app, body);
      await postWhatsapp(t.app, body);
      await postWhatsapp(t.app, body, { headers: { 'x-hub-signature-256': 'sha256=00' } });
      const [created, duplicate, unsigned] = lines(t);
      assert.equal(lines(t).length, 3);
      assert.deepEqual(
        [created?.result, created?.messages, created?.statuses, created?.created_messages],
        ['stored', 1, 0, 1],
      );
      assert.deepEqual([duplicate?.result, duplicate?.created_messages], ['duplicate', 0]);
      assert.equal(unsigned?.result, 'invalid_signature');
      assert.equal(unsigned?.level, 'ERROR');
      const raw = t.logs.raw.join('\n');
      for (const secret of ['very private words', APP_SECRET, signature.slice(7)]) {
        assert.ok(!raw.includes(secret), `a log line holds ${secret}`);
      }
    });

    it('counts deliveries by result, stored items by kind and source, and types from a fixed list', async () => {
      await postWhatsapp(t.app, fixtureBytes('batch'));
      await postWhatsapp(t.app, fixtureBytes('batch'));
      await postWhatsapp(t.app, fixtureBytes('unknown-type'));
      await postWhatsapp(t.app, fixtureBytes('other-field'));
      await postWhatsapp(t.app, '{}', { headers: { 'x-hub-signature-256': 'sha256=00' } });
      await t.app.inject({ method: 'PUT', url: '/webhooks/whatsapp' });
      const metrics = (await t.app.inject('/metrics')).body;
      for (const line of [
        'whatsapp_deliveries_total{result="stored"} 2',
        'whatsapp_deliveries_total{result="duplicate"} 1',
        'whatsapp_deliveries_total{result="ignored"} 1',
        'whatsapp_deliveries_total{result="invalid_signature"} 1',
        'whatsapp_deliveries_total{result="method_not_allowed"} 1',
        'stored_items_total{kind="message",source="whatsapp"} 3',
        'stored_items_total{kind="status",source="whatsapp"} 1',
        'stored_items_total{kind="message",source="webhook"} 0',
        'whatsapp_messages_total{type="text"} 4',
        'whatsapp_messages_total{type="other"} 1',
        'whatsapp_ignored_changes_total 3',
      ]) {
        assert.ok(metrics.split('\n').includes(line), `missing: ${line}`);
      }
      assert.ok(!metrics.includes('poll_vote'), 'a type from the payload became a label');
    });
  });

  describe(`/webhooks/whatsapp not configured (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind });
    });
    afterEach(() => t.close());

    it('answers the POST 503 after size and type checks, and stays ready for POST /webhook', async () => {
      const response = await postWhatsapp(t.app, fixtureBytes('text'));
      assert.equal(response.statusCode, 503);
      assert.deepEqual(response.json(), { detail: 'WhatsApp app secret is not configured' });
      const wrongType = await postWhatsapp(t.app, '{}', {
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(wrongType.statusCode, 415);
      const ready = await t.app.inject('/health/ready');
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.body, '{"status":"ok"}');
      assert.equal(await total(t), 0);
      const metrics = (await t.app.inject('/metrics')).body;
      assert.match(metrics, /^whatsapp_deliveries_total\{result="not_configured"\} 1$/m);
    });
  });
}
