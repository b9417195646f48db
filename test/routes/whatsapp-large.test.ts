import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { APP_SECRET, envelope, postWhatsapp, textItem } from '../harness/whatsapp.js';
import { storeKinds, type TestApp, testApp } from '../helpers.js';

/** The largest deliveries Meta sends: 1000 updates, up to 3 MB (WHATSAPP_MAX_BODY_BYTES). */

const LIMIT = 3 * 1024 * 1024;

/** 1000 items whose JSON is `bytes` long, give or take a few hundred bytes. */
function delivery(bytes: number, prefix: string): string {
  const base = JSON.stringify(
    envelope(Array.from({ length: 1000 }, (_, i) => textItem(`${prefix}-${i}`, ''))),
  );
  const pad = Math.floor((bytes - base.length) / 1000);
  const items = Array.from({ length: 1000 }, (_, i) =>
    textItem(`${prefix}-${i}`, `${i} ${'x'.repeat(Math.max(0, pad - String(i).length - 1))}`),
  );
  return JSON.stringify(envelope(items));
}

for (const kind of storeKinds()) {
  describe(`POST /webhooks/whatsapp, 1000 items near 3 MB (${kind.name})`, {
    skip: kind.skip,
  }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind, whatsapp: { appSecret: APP_SECRET } });
    });
    afterEach(() => t.close());

    it('stores all 1000 messages of a 3 MB delivery in one go', async () => {
      const body = delivery(LIMIT - 2048, 'big');
      assert.ok(body.length > LIMIT - 4096 && body.length <= LIMIT, `${body.length} bytes`);
      const response = await postWhatsapp(t.app, body);
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      const page = (await t.app.inject('/messages?limit=100&q=999 x')).json();
      assert.equal(page.total, 1);
      assert.equal((await t.app.inject('/messages')).json().total, 1000);
      const last = (await t.app.inject('/messages/big-999')).json();
      assert.equal(
        last.text.length,
        JSON.parse(body).entry[0].changes[0].value.messages[999].text.body.length,
      );
      const line = t.logs.requests().find((l) => l.path === '/webhooks/whatsapp');
      assert.deepEqual([line?.messages, line?.created_messages], [1000, 1000]);
    });

    it('refuses a body one byte over WHATSAPP_MAX_BODY_BYTES with 413, storing nothing', async () => {
      let body = delivery(LIMIT, 'over');
      body = body.length > LIMIT ? body : `${body}${' '.repeat(LIMIT + 1 - body.length)}`;
      assert.equal(Buffer.byteLength(body) > LIMIT, true);
      const response = await postWhatsapp(t.app, body);
      assert.equal(response.statusCode, 413);
      assert.deepEqual(response.json(), { detail: 'request body too large' });
      assert.equal((await t.app.inject('/messages')).json().total, 0);
    });
  });
}
