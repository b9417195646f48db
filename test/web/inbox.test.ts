import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  axeViolations,
  BROWSER_SKIP,
  launchBrowser,
  openPage,
  post,
  postWhatsapp,
} from '../harness/browser.js';
import { type ServerProcess, startServer, stopServer } from '../harness/server.js';
import {
  APP_SECRET,
  hostile,
  ordinary,
  SECRET,
  SENDERS,
  tempDatabase,
  whatsappDelivery,
} from './fixtures.js';

/** The inbox page in Chromium, against the built server on SQLite. */
describe('the inbox page (sqlite)', { skip: BROWSER_SKIP }, () => {
  const database = tempDatabase();
  const messages = ordinary(160);
  let server: ServerProcess;
  let browser: Browser;
  const problems: string[] = [];

  before(async () => {
    server = await startServer(
      { WEBHOOK_SECRET: SECRET, WHATSAPP_APP_SECRET: APP_SECRET, DATABASE_URL: database.url },
      { keepLines: false },
    );
    await post(server.base, SECRET, messages);
    await postWhatsapp(server.base, APP_SECRET, whatsappDelivery());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (server !== undefined) await stopServer(server);
    database.remove();
    assert.deepEqual(problems, [], 'no console error and no CSP violation on any page');
  });

  async function open(path = '/', width = 1440): Promise<Page> {
    const opened = await openPage(browser, width);
    opened.page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${path}: ${m.text()}`);
    });
    await opened.page.goto(`${server.base}${path}`);
    return opened.page;
  }
  const rows = (page: Page) => page.locator('li.row');
  /** Waits until exactly `n` rows are shown. */
  async function rowCount(page: Page, n: number): Promise<void> {
    // polled from here: the page's CSP forbids the eval that waitForFunction('…') needs
    for (const deadline = performance.now() + 5000; performance.now() < deadline; ) {
      if ((await rows(page).count()) === n) return;
      await page.waitForTimeout(50);
    }
    assert.fail(`${await rows(page).count()} rows shown, not ${n}`);
  }
  const ids = (page: Page) =>
    page.locator('li.row').evaluateAll((items) => items.map((li) => li.getAttribute('data-id')));
  // every message, newest first: the WhatsApp pair (2025-03-02) is the newest
  const newestFirst = [
    'wamid.reply',
    'wamid.first',
    ...messages.map((m) => m.message_id).reverse(),
  ];

  it('first renders the newest 50, with sender, contact, type, time and first line', async () => {
    const response = await fetch(`${server.base}/`);
    assert.equal(response.headers.get('content-security-policy'), "default-src 'self'");
    const page = await open();
    await rows(page).nth(49).waitFor();
    assert.equal(await rows(page).count(), 50);
    assert.deepEqual(await ids(page), newestFirst.slice(0, 50));
    const reply = rows(page).first();
    assert.equal(await reply.locator('.from').textContent(), '+447700900123');
    assert.equal(await reply.locator('.contact').textContent(), 'Ada Lovelace');
    assert.equal(await reply.locator('.type').textContent(), 'text');
    const third = rows(page).nth(2);
    assert.equal(await third.locator('.text').textContent(), 'hello 159', 'the first line only');
    assert.equal(await third.locator('time').getAttribute('datetime'), messages[159]?.ts);
    assert.match((await page.locator('#health').textContent()) ?? '', /Ready.*webhook.*whatsapp/);
    await page.close();
  });

  it('scrolls past three pages through the cursor, never an offset', async () => {
    const page = await open();
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/messages?')) requests.push(r.url());
    });
    await rows(page).nth(49).waitFor();
    for (let shown = 50; shown < 162; shown = await rows(page).count()) {
      await page.locator('li.more').scrollIntoViewIfNeeded();
      await rows(page).nth(Math.min(shown, 161)).waitFor({ timeout: 5000 });
    }
    assert.deepEqual(await ids(page), newestFirst);
    const further = requests.filter((url) => url.includes('cursor='));
    assert.ok(further.length >= 3, `${further.length} further pages`);
    for (const url of requests) {
      assert.match(url, /order=desc/);
      assert.doesNotMatch(url, /offset=/);
    }
    await page.close();
  });

  it('narrows the list as the search is typed, and keeps it in the URL', async () => {
    const page = await open();
    await rows(page).first().waitFor();
    await page.getByLabel('Search', { exact: true }).pressSequentially('needle');
    const expected = messages.filter((m) => m.text?.includes('NEEDLE')).reverse();
    await rowCount(page, expected.length);
    assert.deepEqual(
      await ids(page),
      expected.map((m) => m.message_id),
    );
    assert.match(page.url(), /[?&]q=needle/);
    await page.reload();
    await rowCount(page, expected.length);
    assert.equal(await page.getByLabel('Search', { exact: true }).inputValue(), 'needle');
    await page.close();
  });

  it('filters by sender and since date, shown in the URL', async () => {
    const page = await open();
    await rows(page).first().waitFor();
    await page.getByLabel('Sender').fill(SENDERS[1] as string);
    await page.getByLabel('Sender').press('Enter');
    await page.getByLabel('Since').fill('2025-01-15');
    await page.getByLabel('Since').press('Tab');
    const expected = messages
      .filter((m) => m.from === SENDERS[1] && m.ts >= '2025-01-15')
      .reverse()
      .map((m) => m.message_id);
    await rowCount(page, expected.length);
    assert.deepEqual(await ids(page), expected);
    assert.match(page.url(), /from=%2B14155550101/);
    assert.match(page.url(), /since=2025-01-15/);
    await page.close();
  });

  it("shows a sender's thread in time order, like a chat", async () => {
    const page = await open();
    await rows(page)
      .nth(2)
      .getByRole('link', { name: /Thread/ })
      .click();
    const sender = messages[159]?.from as string;
    const expected = messages.filter((m) => m.from === sender).map((m) => m.message_id);
    await page
      .locator('li.bubble')
      .nth(expected.length - 1)
      .waitFor();
    const shown = await page
      .locator('li.bubble')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-id')));
    assert.deepEqual(shown, expected);
    assert.equal(new URL(page.url()).searchParams.get('thread'), sender);
    await page.close();
  });

  it('opens the details: type, contact, reply_to as a link, received time, payload as text', async () => {
    const page = await open('/?message=wamid.reply');
    await page.locator('.payload').waitFor();
    const details = (await page.locator('.details dl').textContent()) ?? '';
    assert.match(details, /Typetext/);
    assert.match(details, /Ada Lovelace/);
    assert.match(details, /Received\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    const payload = JSON.parse((await page.locator('.payload').textContent()) ?? '');
    assert.equal(payload.id, 'wamid.reply');
    assert.equal(await page.locator('.payload b').count(), 0, 'markup in it stays text');
    await page.locator('a.reply-to').click();
    await page.waitForURL(/message=wamid.first/);
    await page.locator('.full-text', { hasText: 'Hi' }).waitFor();
    await page.close();
  });

  it('is usable from the keyboard: move through the list, open, go back', async () => {
    const page = await open();
    await rows(page).nth(3).waitFor();
    await rows(page).first().locator('a.open').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(`document.activeElement?.closest('li')?.dataset.id`);
    assert.equal(focused, newestFirst[2]);
    await page.keyboard.press('Enter');
    await page.waitForURL(/message=/);
    assert.equal(new URL(page.url()).searchParams.get('message'), newestFirst[2]);
    await page.keyboard.press('Escape');
    await rows(page).first().waitFor();
    assert.equal(new URL(page.url()).searchParams.get('message'), null);
    await page.close();
  });

  it('shows a message POSTed meanwhile within a second, without a reload', async () => {
    const page = await open();
    await rows(page).first().waitFor();
    await page.locator('#health', { hasText: 'Live' }).waitFor();
    const fresh = {
      ...messages[0],
      message_id: 'live-1',
      ts: '2025-04-01T00:00:00Z',
      text: 'live!',
    };
    const started = performance.now();
    await post(server.base, SECRET, [fresh]);
    await page.locator('li.row[data-id="live-1"]').waitFor({ timeout: 1000 });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `${elapsed} ms`);
    assert.equal((await ids(page))[0], 'live-1');
    await page.close();
  });

  it('draws the charts with the right number of days, each with its figures', async () => {
    const daily = (await (await fetch(`${server.base}/stats/daily?days=30`)).json()) as {
      days: unknown[];
    };
    // 20 days of January, the WhatsApp pair's 2 March and the live message's 1 April
    assert.equal(daily.days.length, 22);
    const page = await open('/?view=charts');
    await page.locator('#chart-daily svg').waitFor();
    assert.equal(await page.locator('#chart-daily rect.bar').count(), daily.days.length);
    assert.equal(await page.locator('#chart-daily tbody tr').count(), daily.days.length);
    // four webhook senders and the WhatsApp one
    assert.equal(await page.locator('#chart-senders rect.bar').count(), 5);
    const funnel = await page.locator('#chart-statuses tbody').textContent();
    assert.equal(funnel, 'sent1delivered1read1failed1');
    await page.close();
  });

  it('renders hostile texts as text, and fits 375 px', async () => {
    await post(server.base, SECRET, hostile());
    const page = await open('/?from=%2B15550006666', 375);
    await rows(page).nth(4).waitFor();
    const texts = await page.locator('li.row .text').allTextContents();
    assert.ok(texts.includes('<script>window.__pwned = 1</script>'));
    assert.ok(texts.includes('javascript:window.__pwned = 3'));
    assert.equal(await page.locator('ol.messages img, ol.messages script').count(), 0);
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    assert.ok(width <= 375, `the page is ${width} px wide`);
    await page.goto(`${server.base}/?message=h4`);
    await page.locator('.full-text').waitFor();
    assert.equal([...((await page.locator('.full-text').textContent()) ?? '')].length, 4096);
    assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 375);
    await page.close();
  });

  it('has no serious or critical axe violation on any view', async () => {
    for (const path of [
      '/',
      '/?message=wamid.reply',
      '/?thread=%2B447700900123',
      '/?view=charts',
    ]) {
      for (const width of [1440, 375]) {
        const page = await open(path, width);
        await page.locator('main :is(li, dl, figure)').first().waitFor();
        assert.deepEqual(await axeViolations(page), [], `${path} at ${width} px`);
        await page.close();
      }
    }
  });
});
