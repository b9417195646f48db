/**
 * inbox-timing: how fast the inbox page answers a person, measured in Chromium.
 *
 *   npm run build
 *   node dist/cli.js seed --count 1000000 --database-url sqlite:////tmp/inbox/app.db
 *   node --import tsx scripts/inbox-timing.ts --database-url sqlite:////tmp/inbox/app.db \
 *     [--runs 5] [--q WORD]...
 *
 * Starts the built server on that database and, in a fresh headless Chromium context per run:
 * - first screen: from the start of navigation (the page's time origin, as navigation timing
 *   counts it) to the moment the first message row is in the document;
 * - search: types each word into the search box, a key at a time, and takes from the last
 *   keystroke to the last change of the list that follows (the debounce, the request and the
 *   drawing together).
 * Prints one JSON line per measurement and a summary (median and worst) per kind. Targets: the
 * first screen within 1 s, a search result within 300 ms.
 */
import { parseArgs } from 'node:util';
import { launchBrowser } from '../test/harness/browser.js';
import { startServer, stopServer } from '../test/harness/server.js';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    runs: { type: 'string', default: '5' },
    q: { type: 'string', multiple: true },
  },
});
const databaseUrl = values['database-url'];
if (databaseUrl === undefined) {
  console.error('usage: inbox-timing.ts --database-url URL [--runs N] [--q WORD]...');
  process.exit(2);
}
const runs = Number(values.runs);
const words = values.q ?? ['hello', 'order', 'zzqx'];

// In the page, before its own script: when the first row appears, the last input event, and
// the last change under <main> (injected through the DevTools protocol: the CSP allows no
// inline script, and this is not one).
const PROBE = `
  window.__timing = { firstRow: null, lastInput: null, lastChange: null };
  new MutationObserver(() => {
    const now = performance.now();
    window.__timing.lastChange = now;
    if (window.__timing.firstRow === null && document.querySelector('li.row') !== null) {
      window.__timing.firstRow = now;
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
  document.addEventListener('input', () => { window.__timing.lastInput = performance.now(); }, true);
`;

interface Timing {
  firstRow: number | null;
  lastInput: number | null;
  lastChange: number | null;
}

const server = await startServer(
  { WEBHOOK_SECRET: 'timing', DATABASE_URL: databaseUrl, LOG_LEVEL: 'WARNING' },
  { keepLines: false, port: 18400 + Math.floor(Math.random() * 100), probe: '/health/ready' },
);
const browser = await launchBrowser();
const results: Record<string, number[]> = { first_screen_ms: [] };
try {
  const stats = (await (await fetch(`${server.base}/stats`)).json()) as { total_messages: number };
  console.log(
    JSON.stringify({ messages: stats.total_messages, database: databaseUrl.split(':')[0] }),
  );
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(PROBE);
    await page.goto(`${server.base}/`);
    await page.locator('li.row').first().waitFor({ timeout: 30_000 });
    const first = (await page.evaluate('window.__timing')) as Timing;
    results.first_screen_ms?.push(first.firstRow ?? Number.NaN);
    console.log(JSON.stringify({ run, first_screen_ms: round(first.firstRow) }));
    for (const word of words) {
      const box = page.getByLabel('Search', { exact: true });
      await box.fill('');
      await page.waitForTimeout(500);
      await box.pressSequentially(word, { delay: 40 });
      // settled: the URL names the word, and nothing changed for a while
      await page.waitForURL((url) => url.searchParams.get('q') === word);
      await page.locator('p.count', { hasNotText: 'Loading' }).waitFor({ timeout: 30_000 });
      let last = -1;
      for (;;) {
        await page.waitForTimeout(400);
        const now = ((await page.evaluate('window.__timing')) as Timing).lastChange ?? 0;
        if (now === last) break;
        last = now;
      }
      const timing = (await page.evaluate('window.__timing')) as Timing;
      const ms = (timing.lastChange ?? 0) - (timing.lastInput ?? 0);
      const key = `search_${word}_ms`;
      results[key] ??= [];
      results[key].push(ms);
      const shown = await page.locator('p.count').textContent();
      // how much of it the request took (resource timing of the last /messages?…q= fetch)
      const request = (await page.evaluate(
        `performance.getEntriesByType('resource').filter((e) => e.name.includes('/messages?') && e.name.includes('q=')).at(-1)?.duration`,
      )) as number | undefined;
      console.log(
        JSON.stringify({ run, q: word, search_ms: round(ms), request_ms: round(request), shown }),
      );
    }
    await context.close();
  }
} finally {
  await browser.close();
  await stopServer(server);
}
for (const [name, list] of Object.entries(results)) {
  const sorted = [...list].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  console.log(
    JSON.stringify({ summary: name, median: round(median), worst: round(sorted.at(-1)) }),
  );
}

function round(value: number | null | undefined): number | null {
  return value == null ? null : Math.round(value);
}
