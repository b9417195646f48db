import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestApp, tempDir, testApp } from '../helpers.js';

/** GET / with a stand-in for the built page (test/web/ drives the real one in a browser). */
describe('the inbox page files', () => {
  const dir = tempDir();
  let t: TestApp;
  before(async () => {
    mkdirSync(join(dir.path, 'assets'));
    writeFileSync(join(dir.path, 'index.html'), '<!doctype html><title>Inbox</title>');
    writeFileSync(join(dir.path, 'assets', 'index-abc123.js'), 'console.log(1)');
    t = await testApp({ pageDir: dir.path });
  });
  after(async () => {
    await t.close();
    dir.remove();
  });

  it('serves index.html at / with the CSP, revalidated on every load', async () => {
    const response = await t.app.inject('/');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.equal(response.body, '<!doctype html><title>Inbox</title>');
    assert.equal(response.headers['content-security-policy'], "default-src 'self'");
    assert.equal(response.headers['cache-control'], 'no-cache');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
  });

  it('serves hashed assets as immutable for a year', async () => {
    const response = await t.app.inject('/assets/index-abc123.js');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /javascript/);
    assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(response.headers['content-security-policy'], "default-src 'self'");
  });

  it('leaves other paths an ordinary 404 in the error envelope', async () => {
    for (const url of ['/assets/nothing.js', '/index.htm', '/../package.json', '/nope']) {
      const response = await t.app.inject(url);
      assert.equal(response.statusCode, 404, url);
      assert.deepEqual(response.json(), { detail: 'Not Found' }, url);
    }
  });

  it('says the page is not built when it is missing', async () => {
    const bare = await testApp({ pageDir: join(dir.path, 'missing') });
    try {
      const response = await bare.app.inject('/');
      assert.equal(response.statusCode, 404);
      assert.deepEqual(response.json(), {
        detail: 'the inbox page is not built: run npm run build',
      });
    } finally {
      await bare.close();
    }
  });
});
