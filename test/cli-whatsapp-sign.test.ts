import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hubSignatureVerifies, runCli } from './harness/cli.js';
import { tempDir } from './helpers.js';

/** `sign --whatsapp` of the built command-line tool, and the usage errors of `--whatsapp`. */

const APP_SECRET = 'meta-app-secret-0123456789';
const dir = tempDir();
after(() => dir.remove());
const cli = (args: string[], env: Record<string, string> = {}) => runCli(dir.path, args, env);
const verifies = (header: string | undefined, body: Buffer, secret = APP_SECRET) =>
  hubSignatureVerifies(header, body, secret);

describe('cli sign --whatsapp', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","text":"caf\\u00e9"}');
  before(() => writeFileSync(join(dir.path, 'delivery.json'), body));

  it('prints the header line, which node:crypto verifies over the exact bytes', async () => {
    const result = await cli(['sign', '--whatsapp', 'delivery.json'], {
      WHATSAPP_APP_SECRET: APP_SECRET,
      WEBHOOK_SECRET: 'not-this-one',
    });
    assert.equal(result.code, 0, result.stderr);
    const match = /^X-Hub-Signature-256: (sha256=[0-9a-f]{64})\n$/.exec(result.stdout);
    assert.ok(match, result.stdout);
    assert.ok(verifies(match[1], body), 'keyed with the app secret');
    const flag = await cli(['sign', '--whatsapp', '--secret', 'other', 'delivery.json'], {
      WHATSAPP_APP_SECRET: APP_SECRET,
    });
    assert.ok(verifies(flag.stdout.trim().split(': ')[1], body, 'other'), '--secret wins');
  });

  const mistakes: [string, string[], Record<string, string>, RegExp][] = [
    [
      'no app secret',
      ['sign', '--whatsapp', 'delivery.json'],
      { WEBHOOK_SECRET: 'k' },
      /WHATSAPP_APP_SECRET/,
    ],
    [
      '--standard too',
      ['sign', '--whatsapp', '--standard'],
      { WHATSAPP_APP_SECRET: 's' },
      /exclude each other/,
    ],
    ['send with no app secret', ['send', '--whatsapp', '--count', '1'], {}, /WHATSAPP_APP_SECRET/],
    [
      'a batch of 0',
      ['send', '--whatsapp', '--count', '1', '--batch', '0'],
      { WHATSAPP_APP_SECRET: 's' },
      /--batch must be .* 1 to 1000/,
    ],
    [
      'a batch of 1001',
      ['send', '--whatsapp', '--count', '1', '--batch', '1001'],
      { WHATSAPP_APP_SECRET: 's' },
      /--batch must be/,
    ],
    [
      'no messages',
      ['send', '--whatsapp'],
      { WHATSAPP_APP_SECRET: 's' },
      /needs one of --count N, FILE/,
    ],
    [
      'a count and a file',
      ['send', '--whatsapp', '--count', '1', 'x.jsonl'],
      { WHATSAPP_APP_SECRET: 's' },
      /needs one of/,
    ],
    [
      '--batch without --whatsapp',
      ['send', '--batch', '5', 'x.json'],
      { WEBHOOK_SECRET: 's' },
      /--batch goes with --whatsapp/,
    ],
    [
      'an invalid message from options',
      ['send', '--whatsapp', '--from', '447700900123', '--to', '+15557850142'],
      { WHATSAPP_APP_SECRET: 's' },
      /invalid message: from/,
    ],
  ];
  for (const [what, args, env, reason] of mistakes) {
    it(`exits 2 with the reason and the usage for ${what}`, async () => {
      const result = await cli(args, env);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /Usage: webhook-receiver <command>/);
    });
  }

  it('is described by help', async () => {
    const result = await cli(['help']);
    for (const word of ['sign --whatsapp', 'send --whatsapp', '--batch N', 'WHATSAPP_APP_SECRET']) {
      assert.ok(result.stdout.includes(word), `the usage names ${word}`);
    }
  });
});
