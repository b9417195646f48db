/**
 * inbox-screenshots: the pictures of the inbox page in docs/, taken in headless Chromium from
 * the built server on a throwaway SQLite database filled by `webhook-receiver seed`.
 *
 *   npm run build && node --import tsx scripts/inbox-screenshots.ts
 *
 * Writes docs/inbox-{inbox,thread,details,charts}-{1440,375}.png.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../test/harness/browser.js';
import { ROOT, startServer, stopServer } from '../test/harness/server.js';

const dir = mkdtempSync(join(tmpdir(), 'inbox-screenshots-'));
const databaseUrl = `sqlite:///${join(dir, 'app.db')}`;
const seed = (...args: string[]) =>
  execFileSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'seed', ...args], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
    stdio: 'ignore',
  });
seed('--count', '400', '--whatsapp', '--seed', 'docs');
seed('--count', '200', '--seed', 'plain');
seed('--statuses', '300', '--seed', 'docs');

const server = await startServer(
  { WEBHOOK_SECRET: 'screenshots', DATABASE_URL: databaseUrl },
  { keepLines: false },
);
const browser = await launchBrowser();
const out = join(ROOT, 'docs');
mkdirSync(out, { recursive: true });
try {
  const first = (await (await fetch(`${server.base}/messages?order=desc&limit=1`)).json()) as {
    data: { message_id: string; from: string }[];
  };
  const newest = first.data[0];
  if (newest === undefined) throw new Error('nothing was seeded');
  const views: [name: string, path: string, ready: string][] = [
    ['inbox', '/', 'li.row'],
    ['thread', `/?thread=${encodeURIComponent(newest.from)}`, 'li.bubble'],
    ['details', `/?message=${encodeURIComponent(newest.message_id)}`, '.payload'],
    ['charts', '/?view=charts', '#chart-daily svg'],
  ];
  for (const width of [1440, 375]) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    for (const [name, path, ready] of views) {
      await page.goto(`${server.base}${path}`);
      await page.locator(ready).first().waitFor();
      await page.locator('#health', { hasText: 'Live' }).waitFor();
      const file = join(out, `inbox-${name}-${width}.png`);
      await page.screenshot({ path: file });
      console.log(JSON.stringify({ wrote: file }));
    }
    await context.close();
  }
} finally {
  await browser.close();
  await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
}
