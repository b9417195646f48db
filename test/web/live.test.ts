import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_SKIP, launchBrowser, openPage, post } from '../harness/browser.js';
import { ROOT, type ServerProcess, startServer, stopServer } from '../harness/server.js';
import { createTestDatabase, dropTestDatabasesAfterwards, POSTGRES_SKIP } from '../helpers.js';
import { ordinary, SECRET, tempDatabase } from './fixtures.js';

/**
 * The page with PostgreSQL and two replicas: a message taken by replica A shows on the page
 * served by replica B (LISTEN/NOTIFY). Then the read token, on SQLite. And the page's size.
 */

dropTestDatabasesAfterwards();

/** Waits for the row of `id`, and says how long after `since` it appeared. */
async function appears(page: Page, id: string, since: number): Promise<number> {
  await page.locator(`li.row[data-id="${id}"]`).waitFor({ timeout: 2000 });
  return performance.now() - since;
}

describe('the inbox page on two PostgreSQL replicas', {
  skip: BROWSER_SKIP || POSTGRES_SKIP,
}, () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let browser: Browser;
  before(async () => {
    const { url } = await createTestDatabase();
    const env = { WEBHOOK_SECRET: SECRET, DATABASE_URL: url };
    a = await startServer(env, { keepLines: false });
    b = await startServer(env, { keepLines: false });
    await post(a.base, SECRET, ordinary(60));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await Promise.all([a, b].filter((s) => s !== undefined).map((s) => stopServer(s)));
  });

  it('shows within a second a message stored by the other replica', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${b.base}/`);
    await page.locator('li.row').nth(49).waitFor();
    await page.locator('#health', { hasText: 'Live' }).waitFor();
    const fresh = { ...ordinary(1)[0], message_id: 'from-a', ts: '2025-06-01T00:00:00Z' };
    const started = performance.now();
    await post(a.base, SECRET, [fresh]);
    const took = await appears(page, 'from-a', started);
    assert.ok(took < 1000, `${took} ms`);
    assert.equal(await page.locator('li.row').first().getAttribute('data-id'), 'from-a');
    assert.deepEqual(problems, []);
    await page.close();
  });
});

describe('the inbox page with READ_TOKEN', { skip: BROWSER_SKIP }, () => {
  const database = tempDatabase();
  const TOKEN = 'reading-token-for-tests';
  let server: ServerProcess;
  let browser: Browser;
  before(async () => {
    server = await startServer(
      { WEBHOOK_SECRET: SECRET, DATABASE_URL: database.url, READ_TOKEN: TOKEN },
      { keepLines: false },
    );
    await post(server.base, SECRET, ordinary(5));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (server !== undefined) await stopServer(server);
    database.remove();
  });

  it('asks once, says when it is wrong, then sends it as a bearer, the events too', async () => {
    const { page } = await openPage(browser);
    const bearers = new Map<string, string | undefined>();
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path === '/messages' || path === '/events') {
        bearers.set(path, request.headers().authorization);
      }
    });
    await page.goto(`${server.base}/`);
    await page.getByLabel('Read token').fill('not-the-token');
    await page.getByRole('button', { name: 'Open the inbox' }).click();
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    assert.equal(await page.locator('li.row').count(), 0, 'nothing shown with a wrong token');
    await page.getByLabel('Read token').fill(TOKEN);
    await page.getByRole('button', { name: 'Open the inbox' }).click();
    await page.locator('li.row').nth(4).waitFor();
    await page.locator('#health', { hasText: 'Live' }).waitFor();
    const started = performance.now();
    await post(server.base, SECRET, [
      { ...ordinary(1)[0], message_id: 'with-token', ts: '2026-01-01T00:00:00Z' },
    ]);
    assert.ok((await appears(page, 'with-token', started)) < 1000);
    assert.equal(bearers.get('/messages'), `Bearer ${TOKEN}`);
    assert.equal(bearers.get('/events'), `Bearer ${TOKEN}`);
    await page.reload();
    await page.locator('li.row').first().waitFor();
    assert.equal(await page.getByLabel('Read token').count(), 0, 'kept for the tab');
    const other = await openPage(browser);
    await other.page.goto(`${server.base}/`);
    await other.page.getByLabel('Read token').waitFor();
    await Promise.all([page.close(), other.page.close()]);
  });
});

describe('the built page', () => {
  it('ships at most 60 kB of JavaScript, gzipped, and loads nothing from elsewhere', () => {
    const assets = join(ROOT, 'dist', 'web', 'assets');
    const scripts = readdirSync(assets).filter((name) => name.endsWith('.js'));
    assert.ok(scripts.length > 0, 'npm run build made the page');
    const gzipped = scripts.reduce(
      (sum, name) => sum + gzipSync(readFileSync(join(assets, name))).length,
      0,
    );
    assert.ok(gzipped <= 60 * 1024, `${gzipped} bytes gzipped`);
    const html = readFileSync(join(ROOT, 'dist', 'web', 'index.html'), 'utf8');
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no other origin');
    assert.doesNotMatch(html, /<script>|<style>|style="/, 'no inline script or style');
  });
});
