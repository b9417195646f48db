import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from '../helpers.js';

/** GET /webhooks/whatsapp: Meta's verification handshake, every branch. */

const TOKEN = 'the-verify-token';

const url = (query: Record<string, string>) =>
  `/webhooks/whatsapp?${new URLSearchParams(query).toString()}`;

describe('GET /webhooks/whatsapp handshake', () => {
  let t: TestApp;
  let unconfigured: TestApp;
  before(async () => {
    t = await testApp({ whatsapp: { verifyToken: TOKEN } });
    unconfigured = await testApp();
  });
  after(async () => {
    await t.close();
    await unconfigured.close();
  });

  it('echoes the challenge exactly, as text/plain, for subscribe and the right token', async () => {
    for (const challenge of ['1158201444', 'a b&c=d', 'émoji 😀', '<script>x</script>', '']) {
      const response = await t.app.inject(
        url({ 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN, 'hub.challenge': challenge }),
      );
      assert.equal(response.statusCode, 200, challenge);
      assert.equal(response.body, challenge);
      assert.match(String(response.headers['content-type']), /^text\/plain/);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
    }
  });

  it('answers 403 for a wrong or missing token, another mode, a missing challenge', async () => {
    const cases: Record<string, string>[] = [
      { 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': 'c' },
      { 'hub.mode': 'subscribe', 'hub.verify_token': `${TOKEN} `, 'hub.challenge': 'c' },
      { 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN.slice(1), 'hub.challenge': 'c' },
      { 'hub.mode': 'subscribe', 'hub.challenge': 'c' },
      { 'hub.mode': 'unsubscribe', 'hub.verify_token': TOKEN, 'hub.challenge': 'c' },
      { 'hub.mode': 'SUBSCRIBE', 'hub.verify_token': TOKEN, 'hub.challenge': 'c' },
      { 'hub.verify_token': TOKEN, 'hub.challenge': 'c' },
      { 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN },
      {},
    ];
    for (const query of cases) {
      const response = await t.app.inject(url(query));
      assert.equal(response.statusCode, 403, JSON.stringify(query));
      assert.deepEqual(response.json(), { detail: 'verification failed' });
    }
    // a parameter given twice is not a token
    const twice = await t.app.inject(
      `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${TOKEN}&hub.verify_token=${TOKEN}&hub.challenge=c`,
    );
    assert.equal(twice.statusCode, 403);
  });

  it('answers 503 when no verify token is configured, whatever the query', async () => {
    const response = await unconfigured.app.inject(
      url({ 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': 'c' }),
    );
    assert.equal(response.statusCode, 503);
    assert.deepEqual(response.json(), { detail: 'WhatsApp verify token is not configured' });
  });

  it('never logs the token or the challenge', async () => {
    await t.app.inject(
      url({ 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN, 'hub.challenge': 'secret-chal' }),
    );
    const raw = t.logs.raw.join('\n');
    assert.ok(!raw.includes(TOKEN), 'token logged');
    assert.ok(!raw.includes('secret-chal'), 'challenge logged');
  });
});
