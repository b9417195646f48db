import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { message, postWebhook, seed, storeKinds, type TestApp, testApp } from './helpers.js';

const TOKEN = 'read-token-for-tests-0123456789';

for (const kind of storeKinds()) {
  describe(`READ_TOKEN (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await testApp({ kind, readToken: TOKEN });
      await seed(t.app, [message({ text: 'private words' })]);
    });
    after(() => t.close());

    const get = (url: string, authorization?: string, method: 'GET' | 'HEAD' = 'GET') =>
      t.app.inject({
        method,
        url,
        headers: authorization === undefined ? {} : { authorization },
      });

    it('answers 401 on /messages and /stats without the right bearer token', async () => {
      for (const url of ['/messages', '/stats', '/messages?limit=0']) {
        for (const authorization of [
          undefined,
          '',
          TOKEN,
          `Basic ${TOKEN}`,
          `Bearer ${TOKEN}x`,
          `Bearer ${TOKEN.slice(0, -1)}`,
          'Bearer ',
          `Bearer ${TOKEN} extra`,
        ]) {
          const response = await get(url, authorization);
          const label = `${url} with ${JSON.stringify(authorization)}`;
          assert.equal(response.statusCode, 401, label);
          assert.deepEqual(response.json(), { detail: 'missing or invalid bearer token' }, label);
          assert.equal(response.headers['www-authenticate'], 'Bearer', label);
        }
      }
      assert.equal((await get('/messages', undefined, 'HEAD')).statusCode, 401, 'HEAD too');
    });

    it('serves them with the token, in either case of "Bearer"', async () => {
      for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER  ${TOKEN}`]) {
        const messages = await get('/messages', authorization);
        assert.equal(messages.statusCode, 200, authorization);
        assert.equal(messages.json().total, 1);
        const stats = await get('/stats', authorization);
        assert.equal(stats.statusCode, 200, authorization);
        assert.equal(stats.json().total_messages, 1);
      }
      const invalid = await get('/messages?limit=0', `Bearer ${TOKEN}`);
      assert.equal(invalid.statusCode, 422, 'validation comes after the token');
    });

    it('leaves webhooks, health, metrics and docs open', async () => {
      const webhook = await postWebhook(t.app, message({ message_id: 'open' }));
      assert.equal(webhook.statusCode, 200);
      for (const url of ['/health/live', '/health/ready', '/metrics', '/docs/json']) {
        assert.equal((await get(url)).statusCode, 200, url);
      }
    });

    it('logs a 401 as ERROR and never logs the token', async () => {
      await get('/stats', 'Bearer wrong-token-value');
      const line = t.logs.requests().at(-1);
      assert.equal(line?.status, 401);
      assert.equal(line?.level, 'ERROR');
      const raw = t.logs.raw.join('\n');
      assert.equal(raw.includes(TOKEN), false, 'the token is not logged');
      assert.equal(raw.includes('wrong-token-value'), false, 'a wrong token is not logged');
    });
  });
}

describe('without READ_TOKEN', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(() => t.close());

  it('serves /messages and /stats to anyone', async () => {
    assert.equal((await t.app.inject('/messages')).statusCode, 200);
    assert.equal((await t.app.inject('/stats')).statusCode, 200);
  });
});

describe('WEBHOOK_SECRET_PREVIOUS', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ secret: 'new-secret', previousSecret: 'old-secret' });
  });
  after(() => t.close());

  it('accepts messages signed with either secret, and no other', async () => {
    const current = await postWebhook(t.app, message({ message_id: 'a' }), {
      secret: 'new-secret',
    });
    assert.equal(current.statusCode, 200);
    const previous = await postWebhook(t.app, message({ message_id: 'b' }), {
      secret: 'old-secret',
    });
    assert.equal(previous.statusCode, 200);
    const other = await postWebhook(t.app, message({ message_id: 'c' }), { secret: 'other' });
    assert.equal(other.statusCode, 401);
    const page = await t.store.list({}, { limit: 10, offset: 0 });
    assert.deepEqual(
      page.data.map((m) => m.message_id),
      ['a', 'b'],
    );
  });
});
