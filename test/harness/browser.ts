/**
 * Chromium for the page tests and the timing script: Debian's /usr/bin/chromium driven by
 * playwright-core (which never downloads a browser), headless, with a fresh profile per launch
 * and none of the background traffic to hosts this machine cannot reach.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';
import { sign } from '../../src/signature.js';
import { hubSignature } from '../../src/whatsapp/signature.js';

export const CHROMIUM = '/usr/bin/chromium';

export const BROWSER_SKIP: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does it)`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}

/** A page of a fresh context at `width` px, recording console errors and CSP violations. */
export async function openPage(
  browser: Browser,
  width = 1440,
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
  // runs in the page (a string: this file is compiled without the DOM's types)
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => {
    console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI);
  });`);
  return { page, problems };
}

/** POSTs each message to /webhook, signed; fails on anything but 200. */
export async function post(base: string, secret: string, messages: object[]): Promise<void> {
  for (const message of messages) {
    const body = JSON.stringify(message);
    const response = await fetch(`${base}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': sign(secret, body) },
      body,
    });
    if (response.status !== 200) {
      throw new Error(`POST /webhook: ${response.status} ${await response.text()}`);
    }
  }
}

/** POSTs one WhatsApp delivery to /webhooks/whatsapp, signed with the app secret. */
export async function postWhatsapp(base: string, appSecret: string, delivery: object) {
  const body = JSON.stringify(delivery);
  const response = await fetch(`${base}/webhooks/whatsapp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': hubSignature(appSecret, body),
    },
    body,
  });
  if (response.status !== 200) {
    throw new Error(`POST /webhooks/whatsapp: ${response.status} ${await response.text()}`);
  }
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: unknown }[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // evaluated through the DevTools protocol, which the page's CSP does not govern
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => ({ target: n.target })) })))',
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
