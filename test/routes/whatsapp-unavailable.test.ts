import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixtureBytes } from '../fixtures/whatsapp/index.js';
import { holdWriteLock } from '../harness/sqlite-lock.js';
import { APP_SECRET, postWhatsapp } from '../harness/whatsapp.js';
import { sqliteAt, type TestApp, tempDir, testApp } from '../helpers.js';

/**
 * A WhatsApp delivery while another process holds the SQLite write lock past the 5 s busy
 * timeout: 503 with Retry-After (Meta retries), nothing of it stored; once the lock is gone the
 * same delivery is stored whole.
 */

describe('POST /webhooks/whatsapp when the database cannot take the write (sqlite)', () => {
  const dir = tempDir();
  const path = join(dir.path, 'locked.db');
  let t: TestApp;
  before(async () => {
    t = await testApp({ kind: sqliteAt(path), whatsapp: { appSecret: APP_SECRET } });
  });
  after(async () => {
    await t.close();
    dir.remove();
  });

  it('answers 503 with Retry-After and stores nothing, then stores the retry whole', async () => {
    const lock = await holdWriteLock(path, 60_000);
    let response: Awaited<ReturnType<typeof postWhatsapp>>;
    try {
      response = await postWhatsapp(t.app, fixtureBytes('batch'));
      assert.equal(lock.held(), true, 'answered while the lock was still held');
    } finally {
      await lock.release();
    }
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], '1');
    assert.deepEqual(response.json(), { detail: 'database unavailable, retry later' });
    assert.equal((await t.app.inject('/messages')).json().total, 0);
    assert.equal((await t.app.inject('/statuses')).json().total, 0);
    const line = t.logs.requests().find((l) => l.path === '/webhooks/whatsapp');
    assert.deepEqual([line?.result, line?.level], ['unavailable', 'ERROR']);

    const retry = await postWhatsapp(t.app, fixtureBytes('batch'));
    assert.equal(retry.statusCode, 200);
    assert.equal((await t.app.inject('/messages')).json().total, 2);
    assert.equal((await t.app.inject('/statuses')).json().total, 1);
  });
});
