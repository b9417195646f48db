import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { message, postWebhook, seed, storeKinds, type TestApp, testApp } from '../helpers.js';

const CLOCK = new Date('2026-12-02T08:30:15.750Z');

for (const kind of storeKinds()) {
  describe(`GET /messages/{message_id} (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind, clock: () => CLOCK });
    });
    afterEach(() => t.close());

    it('returns a POST /webhook message with its body as payload and the service clock', async () => {
      // key order, spacing and an escape kept exactly as sent: payload is the body received
      const body =
        '{ "text": "caf\\u00e9", "message_id": "m1", "from": "+919876543210", "to": "+14155550100", "ts": "2025-01-15T10:00:00.5Z", "extra": [1, {"x": null}] }';
      assert.equal((await postWebhook(t.app, body)).statusCode, 200);
      const response = await t.app.inject('/messages/m1');
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), {
        message_id: 'm1',
        from: '+919876543210',
        to: '+14155550100',
        ts: '2025-01-15T10:00:00.5Z',
        text: 'café',
        source: 'webhook',
        type: null,
        contact_name: null,
        reply_to: null,
        received_at: '2026-12-02T08:30:15Z',
        payload: JSON.parse(body),
      });
      assert.equal((await t.store.get('m1'))?.payload, body);
    });

    it('answers 404 in the envelope for an unknown id, and for a prefix of a known one', async () => {
      await seed(t.app, [message({ message_id: 'known' })]);
      for (const url of ['/messages/unknown', '/messages/know', '/messages/known%20']) {
        const response = await t.app.inject(url);
        assert.equal(response.statusCode, 404, url);
        assert.deepEqual(response.json(), { detail: 'message not found' }, url);
      }
    });

    it('reads percent-encoded ids holding / ? # %, spaces, emoji and a 256-character id', async () => {
      const ids = [
        'a/b',
        'what?x=1',
        '#frag',
        '100%',
        '%2F',
        'two words',
        '😀🇮🇳',
        'é'.repeat(256),
        '😀'.repeat(256),
      ];
      await seed(
        t.app,
        ids.map((id) => message({ message_id: id })),
      );
      for (const id of ids) {
        const response = await t.app.inject(`/messages/${encodeURIComponent(id)}`);
        assert.equal(response.statusCode, 200, id);
        assert.equal(response.json().message_id, id);
        assert.equal(response.json().payload.message_id, id);
      }
      // the encoded id is one segment: a literal / is another path
      const other = await t.app.inject('/messages/a/b');
      assert.equal(other.statusCode, 404);
    });

    it('keeps the first version: a later body with the same id changes nothing', async () => {
      await seed(t.app, [message({ message_id: 'x', text: 'first' })]);
      await seed(t.app, [message({ message_id: 'x', text: 'second' })]);
      const response = await t.app.inject('/messages/x');
      assert.equal(response.json().text, 'first');
      assert.equal(response.json().payload.text, 'first');
    });

    it('answers 405 to other methods and 400 in the envelope to a malformed escape', async () => {
      const post = await t.app.inject({ method: 'POST', url: '/messages/x' });
      assert.equal(post.statusCode, 405);
      const bad = await t.app.inject('/messages/%E0%A4%A');
      assert.equal(bad.statusCode, 400);
      assert.deepEqual(bad.json(), { detail: 'malformed path: invalid percent-encoding' });
    });
  });

  describe(`GET /messages/{message_id} with READ_TOKEN (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind, readToken: 'reader-token-123' });
    });
    afterEach(() => t.close());

    it('requires the bearer token', async () => {
      await seed(t.app, [message({ message_id: 'secret' })]);
      assert.equal((await t.app.inject('/messages/secret')).statusCode, 401);
      const ok = await t.app.inject({
        url: '/messages/secret',
        headers: { authorization: 'Bearer reader-token-123' },
      });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json().message_id, 'secret');
    });
  });
}
