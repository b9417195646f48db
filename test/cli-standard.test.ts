import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { ROOT } from './harness/server.js';
import { message, type TestApp, tempDir, testApp } from './helpers.js';

/**
 * `sign --standard` and `send --standard` of the built command-line tool: the official
 * `standardwebhooks` package verifies what it signs, and the service accepts what it sends.
 */

const CLI = join(ROOT, 'dist', 'cli.js');
const KEY = `whsec_${randomBytes(32).toString('base64')}`;
const dir = tempDir();
after(() => dir.remove());

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with only PATH and `env` set; FILE arguments name files in `dir`. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      cwd: dir.path,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** The `name: value` lines of sign --standard's output. */
function headersOf(stdout: string): Record<string, string> {
  const lines = stdout.split('\n');
  assert.equal(lines.pop(), '', 'the output ends with a newline');
  return Object.fromEntries(
    lines.map((line) => {
      const match = /^([a-z-]+): (.+)$/.exec(line);
      assert.ok(match, `a header line: ${line}`);
      return [match[1], match[2]];
    }),
  );
}

const body = Buffer.from(`${JSON.stringify(message({ text: 'héllo 👋' }))}\n`);
before(() => writeFileSync(join(dir.path, 'body.json'), body));

describe('cli sign --standard', () => {
  it('prints the three headers, and the official package verifies them', async () => {
    const now = String(Math.floor(Date.now() / 1000));
    const result = await cli(
      ['sign', '--standard', '--id', 'msg_cli_1', '--timestamp', now, 'body.json'],
      { STANDARD_WEBHOOKS_SECRET: KEY },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const headers = headersOf(result.stdout);
    assert.deepEqual(Object.keys(headers), [
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
    assert.equal(headers['webhook-id'], 'msg_cli_1');
    assert.equal(headers['webhook-timestamp'], now);
    assert.deepEqual(new Webhook(KEY).verify(body, headers), JSON.parse(body.toString()));
    assert.equal(
      headers['webhook-signature'],
      new Webhook(KEY).sign('msg_cli_1', new Date(Number(now) * 1000), body),
    );
    assert.ok(!result.stdout.includes(KEY.slice(6)), 'the key is not printed');
  });

  it('defaults to a random msg_ id and the current time, and takes --secret over the variable', async () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    const start = Math.floor(Date.now() / 1000);
    const result = await cli(['sign', '--standard', '--secret', KEY, 'body.json'], {
      STANDARD_WEBHOOKS_SECRET: other,
    });
    assert.equal(result.code, 0, result.stderr);
    const headers = headersOf(result.stdout);
    assert.match(headers['webhook-id'] ?? '', /^msg_[A-Za-z0-9_-]{24}$/);
    const at = Number(headers['webhook-timestamp']);
    assert.ok(at >= start && at <= start + 60, `the timestamp is now (${at})`);
    assert.ok(new Webhook(KEY).verify(body, headers), 'signed with --secret');
    const again = headersOf(
      (await cli(['sign', '--standard', 'body.json'], { STANDARD_WEBHOOKS_SECRET: other })).stdout,
    );
    assert.notEqual(again['webhook-id'], headers['webhook-id']);
  });

  const mistakes: [string, string[], Record<string, string>, RegExp][] = [
    ['no key', ['sign', '--standard', 'body.json'], {}, /STANDARD_WEBHOOKS_SECRET/],
    [
      'a key that is not whsec_',
      ['sign', '--standard', 'body.json'],
      { STANDARD_WEBHOOKS_SECRET: 'plain-secret-value' },
      /STANDARD_WEBHOOKS_SECRET must be whsec_/,
    ],
    [
      'a key too short',
      ['sign', '--standard', '--secret', `whsec_${randomBytes(16).toString('base64')}`],
      {},
      /--secret must be whsec_.*24 to 64 byte/,
    ],
    [
      'an id with a space',
      ['sign', '--standard', '--id', 'msg 1'],
      { STANDARD_WEBHOOKS_SECRET: KEY },
      /--id must be/,
    ],
    [
      'a timestamp that is not digits',
      ['sign', '--standard', '--timestamp', '1.5'],
      { STANDARD_WEBHOOKS_SECRET: KEY },
      /--timestamp must be whole unix seconds/,
    ],
    ['--id without --standard', ['sign', '--id', 'msg_1'], { WEBHOOK_SECRET: 'k' }, /--standard/],
    [
      'send --standard with no key',
      ['send', '--standard', 'body.json'],
      { WEBHOOK_SECRET: 'k' },
      /STANDARD_WEBHOOKS_SECRET/,
    ],
  ];
  for (const [what, args, env, reason] of mistakes) {
    it(`exits 2 with the reason and the usage for ${what}, echoing no key`, async () => {
      const result = await cli(args, env);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /Usage: webhook-receiver <command>/);
      assert.ok(!result.stderr.includes('plain-secret-value'), 'the key is not echoed');
    });
  }

  it('is described by help', async () => {
    const result = await cli(['help']);
    for (const word of [
      'sign --standard',
      'send [--standard]',
      'STANDARD_WEBHOOKS_SECRET',
      '--timestamp',
    ]) {
      assert.ok(result.stdout.includes(word), `the usage names ${word}`);
    }
  });
});

describe('cli send --standard, against the app on a real socket', () => {
  let service: TestApp;
  let base: string;

  before(async () => {
    service = await testApp({ standardWebhooks: { secret: KEY } });
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const address = service.app.server.address();
    assert.ok(address !== null && typeof address === 'object', 'the app listens on a port');
    base = `http://127.0.0.1:${address.port}`;
  });
  after(() => service.close());

  it('sends the three headers, which the service verifies', async () => {
    const result = await cli(['send', '--standard', '--url', base, 'body.json'], {
      STANDARD_WEBHOOKS_SECRET: KEY,
      WEBHOOK_SECRET: 'not-used',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '200 OK\n{"status":"ok"}\n');
    const [line] = service.logs.requests().filter((l) => l.path === '/webhook');
    assert.deepEqual([line?.result, line?.scheme], ['created', 'standard-webhooks']);
  });

  it('builds the message from options too; a wrong key is a 401 and exit 1', async () => {
    const ok = await cli(
      [
        'send',
        '--standard',
        '--url',
        base,
        '--id',
        'std-opt',
        '--from',
        '+15550001111',
        '--to',
        '+15550002222',
      ],
      { STANDARD_WEBHOOKS_SECRET: KEY },
    );
    assert.equal(ok.code, 0, ok.stderr);
    const page = await service.store.list({ from: '+15550001111' }, { limit: 10, offset: 0 });
    assert.deepEqual(
      page.data.map((m) => m.message_id),
      ['std-opt'],
    );
    const wrong = await cli(['send', '--standard', '--url', base, 'body.json'], {
      STANDARD_WEBHOOKS_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stdout, '401 Unauthorized\n{"detail":"invalid signature"}\n');
  });
});
