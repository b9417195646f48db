import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sign } from '../../src/signature.js';
import { send } from '../harness/http.js';
import { type ServerProcess, startServer, stopServer } from '../harness/server.js';
import { message, type TestApp, tempDir, testApp } from '../helpers.js';

/**
 * Observability under attack: random paths and methods cannot grow the metrics without bound,
 * and a workload that carries known secrets, signatures, a read token and message texts leaves
 * none of them in any line the built server prints.
 */

const REQUESTS = 10_000;

/** The metric series (lines with labels) of `name` in a Prometheus text exposition. */
function series(exposition: string, name: string): string[] {
  return exposition.split('\n').filter((line) => line.startsWith(`${name}{`));
}

function labels(line: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [, key, value] of line.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
    found[key as string] = value as string;
  }
  return found;
}

describe('metrics under 10,000 requests to random paths and methods', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp({ logLevel: 'error' });
  });
  after(() => t?.close());

  it('grow by a few status codes, never by path', async (tc) => {
    const metrics = async () => (await t.app.inject('/metrics')).body;
    // every route answered once, so that the series that exist without an attack are there
    for (const url of [
      '/webhook',
      '/messages',
      '/stats',
      '/health/live',
      '/health/ready',
      '/nope',
    ]) {
      await t.app.inject(url);
    }
    const before = await metrics();
    const counted = (text: string) => ({
      requests: series(text, 'http_requests_total').length,
      buckets: series(text, 'http_request_duration_seconds_bucket').length,
    });
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
    const prefixes = ['', '/webhook', '/messages', '/stats', '/health', '/metrics', '/docs', '//'];
    const statuses = new Set<number>();
    const marker = `zz${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < REQUESTS; i++) {
      const random = encodeURIComponent(randomBytes(1 + (i % 40)).toString('latin1'));
      const prefix = prefixes[i % prefixes.length] as string;
      // one in four hits a known route (any method, a random query); the rest no route at all
      const url =
        i % 4 === 0
          ? `${prefix === '' || prefix === '//' ? '/messages' : prefix}?${marker}=${random}&limit=${random}`
          : `${prefix}/${marker}${i}/${random}${i % 3 === 0 ? `?${marker}=${i}` : ''}`;
      const response = await t.app.inject({ method: methods[i % methods.length], url });
      statuses.add(response.statusCode);
    }
    const afterAttack = await metrics();
    const [was, is] = [counted(before), counted(afterAttack)];
    tc.diagnostic(
      `answers: ${[...statuses].sort().join(', ')}; http_requests_total series ${was.requests} → ` +
        `${is.requests}; http_request_duration_seconds_bucket series ${was.buckets} → ${is.buckets}`,
    );
    assert.equal(afterAttack.includes(marker), false, 'a requested path reached /metrics');
    const paths = new Set(series(afterAttack, 'http_requests_total').map((l) => labels(l).path));
    assert.ok(paths.has('unmatched'), 'unmatched requests are counted as such');
    for (const path of paths) {
      assert.match(String(path), /^(unmatched|\/[a-z/*:_-]*)$/, `a path label ${path}`);
    }
    // growth: at most one series per (route, status) pair that appeared, and the histogram
    // not at all for routes it already had
    assert.ok(is.requests - was.requests <= statuses.size * paths.size, 'per status, not per path');
    assert.ok(is.requests < 60, `${is.requests} http_requests_total series`);
    const bucketsPerPath = 15;
    assert.ok(is.buckets <= paths.size * bucketsPerPath, `${is.buckets} histogram buckets`);
  });
});

describe('the built server never logs a secret, a signature, a token or a text', () => {
  const dir = tempDir();
  const secret = `secret-${randomBytes(8).toString('hex')}`;
  const previous = `previous-${randomBytes(8).toString('hex')}`;
  const token = `token-${randomBytes(12).toString('hex')}`;
  /** every value that must not appear in the logs */
  const sensitive = new Set<string>([secret, previous, token]);
  let server: ServerProcess;
  let raw: string[];

  before(async () => {
    server = await startServer({
      WEBHOOK_SECRET: secret,
      WEBHOOK_SECRET_PREVIOUS: previous,
      READ_TOKEN: token,
      DATABASE_URL: `sqlite:///${join(dir.path, 'app.db')}`,
      LOG_LEVEL: 'DEBUG',
    });
    const post = (body: string, signature: string | undefined, type = 'application/json') => {
      const headers: Record<string, string> = { 'content-type': type };
      if (signature !== undefined) {
        headers['x-signature'] = signature;
        sensitive.add(signature);
      }
      return send(`${server.base}/webhook`, { method: 'POST', headers, body });
    };
    const read = (path: string, bearer?: string) => {
      if (bearer !== undefined) sensitive.add(bearer);
      return send(`${server.base}${path}`, {
        headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
      });
    };
    for (let i = 0; i < 40; i++) {
      const text = `private-text-${i}-${randomBytes(6).toString('hex')}`;
      sensitive.add(text);
      const body = JSON.stringify(message({ message_id: `leak-${i}`, text }));
      await post(body, sign(secret, body));
      await post(body, `sha256=${sign(previous, body).toUpperCase()}`);
      await post(body, sign(`${secret}x`, body));
      await post(
        body.replace('+919876543210', 'not-a-number'),
        sign(secret, body.replace('+919876543210', 'not-a-number')),
      );
      await post(`{"text":"${text}",`, sign(secret, `{"text":"${text}",`));
      await post(body, sign(secret, body), 'text/plain');
      await post(`${body}${' '.repeat(70_000)}`, sign(secret, body));
      await read(`/messages?q=${text}`, token);
      await read(`/messages?q=${text}`, `wrong-${text}`);
      await read('/stats', token);
      await read('/stats', `${token.slice(0, -1)}X`);
      await read(`/messages?from=+919876543210&q=${encodeURIComponent(text)}`);
    }
    await stopServer(server, 'SIGTERM');
    raw = server.lines.map((line) => JSON.stringify(line));
  });
  after(() => {
    server?.child.kill('SIGKILL');
    dir.remove();
  });

  it('printed only JSON lines, one per request and the start and stop lines', () => {
    assert.deepEqual(server.notJson, [], 'lines that are not JSON');
    assert.deepEqual(server.stderr, [], 'lines on standard error');
    const requests = server.lines.filter((line) => line.msg === 'request');
    assert.equal(requests.length, 40 * 12, 'one line per request');
    const messages = server.lines.map((line) => line.msg);
    for (const msg of ['started', 'shutting down: finishing requests in flight', 'stopped']) {
      assert.ok(messages.includes(msg), `a "${msg}" line`);
    }
  });

  it('leaves no secret, signature, token, text or query string in any line', (tc) => {
    tc.diagnostic(`${sensitive.size} sensitive values checked against ${raw.length} lines`);
    for (const value of sensitive) {
      const forms = [value, value.toLowerCase(), JSON.stringify(value).slice(1, -1)];
      for (const line of raw) {
        for (const form of forms) {
          assert.equal(line.includes(form), false, `a log line holds ${form}: ${line}`);
        }
      }
    }
    for (const line of server.lines) {
      assert.equal(String(line.path ?? '').includes('?'), false, `a query string: ${line.path}`);
    }
  });
});
