import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generator, WINDOW_SECONDS, WINDOW_START } from '../src/cli/generate.js';
import { type Message, MessageSchema } from '../src/message.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { ajv } from '../src/validation.js';
import { message, SECRET, type TestApp, tempDir, testApp } from './helpers.js';

/**
 * The built command-line tool (`node dist/cli.js`, what the package's bin runs) as a child
 * process: its output, exit codes, and what it leaves in the database.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dir = tempDir();

/** Runs the CLI in the temporary directory with only PATH and `env` set. */
function cli(
  args: string[],
  options: { env?: Record<string, string>; input?: string | Buffer } = {},
): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: dir.path,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function hmac(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The counts in seed's summary line. */
function summary(output: string): { created: number; duplicates: number; invalid: number } {
  const match = /^created (\d+), duplicates (\d+), invalid (\d+), [0-9.]+ s, \d+ rows\/s$/m.exec(
    output,
  );
  assert.ok(match, `no summary line in: ${output}`);
  return { created: Number(match[1]), duplicates: Number(match[2]), invalid: Number(match[3]) };
}

/** How many messages the SQLite file at `path` holds. */
async function storedCount(path: string): Promise<number> {
  const store = new SqliteStore({ path });
  try {
    return (await store.list({}, { limit: 1, offset: 0 })).total;
  } finally {
    await store.close();
  }
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object', 'the probe server has a port');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

before(() => {
  assert.ok(existsSync(CLI), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
});
after(() => dir.remove());

describe('cli help and usage errors', () => {
  for (const args of [[], ['help'], ['--help'], ['-h'], ['seed', '--help']]) {
    it(`prints the usage on stdout and exits 0 for [${args.join(' ')}]`, async () => {
      const result = await cli(args);
      assert.equal(result.code, 0);
      assert.equal(result.stderr, '');
      for (const word of ['sign', 'send', 'seed', 'WEBHOOK_SECRET', 'DATABASE_URL', 'Exit codes'])
        assert.ok(result.stdout.includes(word), `the usage names ${word}`);
    });
  }

  const mistakes: [string, string[], RegExp][] = [
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['an unknown top-level option', ['--bogus'], /unknown option '--bogus'/],
    ['an unknown option', ['sign', '--secret', 's', '--bogus'], /--bogus/],
    ['an option without its value', ['sign', '--secret'], /--secret/],
    ['a second FILE', ['sign', '--secret', 's', 'a', 'b'], /unexpected argument 'b'/],
    ['sign without a secret', ['sign'], /WEBHOOK_SECRET/],
    [
      'send with both FILE and message options',
      ['send', '--secret', 's', '--from', '+1555', 'f'],
      /not both/,
    ],
    ['send without --to', ['send', '--secret', 's', '--from', '+15550100'], /--to/],
    ['send to a URL that is not http', ['send', '--secret', 's', '--url', 'ftp://x', 'f'], /http/],
    ['seed with neither --count nor --file', ['seed'], /--count N or --file FILE/],
    ['seed with both --count and --file', ['seed', '--count', '1', '--file', 'x'], /either/],
    ['seed with a malformed --count', ['seed', '--count', '12x'], /--count must be/],
    ['seed with a malformed --seed', ['seed', '--count', '1', '--seed', 'a b'], /--seed must be/],
    ['seed with --seed and --file', ['seed', '--file', 'x', '--seed', '2'], /--seed/],
    [
      'seed with a malformed --database-url',
      ['seed', '--count', '1', '--database-url', 'mysql://x'],
      /--database-url: DATABASE_URL is invalid/,
    ],
  ];
  for (const [what, args, reason] of mistakes) {
    it(`exits 2 with the reason and the usage on stderr for ${what}`, async () => {
      const result = await cli(args, { input: '{}' });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /Usage: webhook-receiver <command>/);
    });
  }

  it('reads a malformed DATABASE_URL like the service does, naming the variable', async () => {
    const result = await cli(['seed', '--count', '1'], { env: { DATABASE_URL: 'nonsense' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^webhook-receiver: DATABASE_URL is invalid/);
  });
});

describe('cli sign', () => {
  const body = Buffer.from('{"message_id":"s1","text":"héllo 👋"}\n');
  const file = join(dir.path, 'body.json');
  before(() => writeFileSync(file, body));

  it("signs a file's exact bytes with WEBHOOK_SECRET", async () => {
    const result = await cli(['sign', file], { env: { WEBHOOK_SECRET: 'k1' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${hmac('k1', body)}\n`);
    assert.equal(result.stderr, '');
  });

  it('signs standard input, with no FILE or with -, and --secret over the variable', async () => {
    for (const args of [
      ['sign', '--secret', 'k2'],
      ['sign', '--secret', 'k2', '-'],
    ]) {
      const result = await cli(args, { env: { WEBHOOK_SECRET: 'other' }, input: body });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${hmac('k2', body)}\n`);
    }
  });

  it('signs an empty body', async () => {
    const result = await cli(['sign', '--secret', 'k3'], { input: '' });
    assert.equal(result.stdout, `${hmac('k3', '')}\n`);
  });

  it('exits 1 with one line when FILE cannot be read', async () => {
    const result = await cli(['sign', '--secret', 'k', join(dir.path, 'missing.json')]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^webhook-receiver sign: cannot read .*missing\.json.*\n$/);
  });
});

describe('cli send, against the app on a real socket', () => {
  let service: TestApp;
  let base: string;

  before(async () => {
    service = await testApp();
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const address = service.app.server.address();
    assert.ok(address !== null && typeof address === 'object', 'the app listens on a port');
    base = `http://127.0.0.1:${address.port}`;
  });
  after(() => service.close());

  async function stored(id: string) {
    const page = await service.store.list({}, { limit: 100, offset: 0 });
    return page.data.find((m) => m.message_id === id);
  }

  it('produces a signature the service accepts', async () => {
    const body = JSON.stringify(message({ message_id: 'signed-by-cli' }));
    const signed = await cli(['sign'], { env: { WEBHOOK_SECRET: SECRET }, input: body });
    const response = await fetch(`${base}/webhook`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-signature': signed.stdout.trim() },
    });
    assert.equal(response.status, 200);
    assert.ok(await stored('signed-by-cli'), 'the message signed by the CLI is stored');
  });

  it("sends a file's bytes, prints 200 and the answer, exits 0 and never prints the secret", async () => {
    const file = join(dir.path, 'send.json');
    writeFileSync(file, `${JSON.stringify(message({ message_id: 'from-file' }))}\n`);
    const result = await cli(['send', '--url', base, file], { env: { WEBHOOK_SECRET: SECRET } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '200 OK\n{"status":"ok"}\n');
    assert.ok(!`${result.stdout}${result.stderr}`.includes(SECRET), 'the secret is not printed');
    assert.equal((await stored('from-file'))?.text, 'Hello');
  });

  it('sends standard input for -, to WEBHOOK_URL with a trailing slash', async () => {
    const body = JSON.stringify(message({ message_id: 'from-stdin' }));
    const result = await cli(['send', '-'], {
      env: { WEBHOOK_SECRET: SECRET, WEBHOOK_URL: `${base}/` },
      input: body,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^200 /);
    assert.ok(await stored('from-stdin'), 'the message read from stdin is stored');
  });

  it('builds the message from options, with a random id and the current time', async () => {
    const result = await cli([
      'send',
      '--url',
      base,
      '--secret',
      SECRET,
      '--from',
      '+15550001111',
      '--to',
      '+15550002222',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const page = await service.store.list({ from: '+15550001111' }, { limit: 10, offset: 0 });
    assert.equal(page.total, 1);
    const sent = page.data[0];
    assert.match(
      sent?.message_id ?? '',
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    assert.match(sent?.ts ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const age = Date.now() - Date.parse(sent?.ts ?? '');
    assert.ok(age >= -2000 && age < 60_000, `ts is about now (${sent?.ts})`);
    assert.equal(sent?.text, null);
  });

  it('sends --id, --ts and --text as given', async () => {
    const args = ['send', '--url', base, '--secret', SECRET, '--id', 'opt-1', '--from'];
    args.push('+15550003333', '--to', '+15550002222', '--ts', '2025-01-15T10:00:00Z');
    args.push('--text', 'héllo 👋');
    const result = await cli(args);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await stored('opt-1'), {
      message_id: 'opt-1',
      from: '+15550003333',
      to: '+15550002222',
      ts: '2025-01-15T10:00:00Z',
      text: 'héllo 👋',
    });
  });

  it('prints 401 and exits 1 with a wrong secret, and nothing is stored', async () => {
    const body = JSON.stringify(message({ message_id: 'wrong-secret' }));
    const result = await cli(['send', '--url', base, '--secret', 'not-the-secret', '-'], {
      input: body,
    });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '401 Unauthorized\n{"detail":"invalid signature"}\n');
    assert.ok(!result.stdout.includes('not-the-secret'), 'the secret is not printed');
    assert.equal(await stored('wrong-secret'), undefined);
  });

  it('prints 422 and exits 1 for an invalid message', async () => {
    const result = await cli(['send', '--url', base, '--from', '12345', '--to', '+15550002222'], {
      env: { WEBHOOK_SECRET: SECRET },
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /^422 Unprocessable Entity\n\{"detail":\[\{"loc":\["body","from"\]/,
    );
  });

  it('exits 1 with one clear line when the connection is refused', async () => {
    const port = await closedPort();
    const result = await cli(['send', '--url', `http://127.0.0.1:${port}`, '-'], {
      env: { WEBHOOK_SECRET: SECRET },
      input: JSON.stringify(message()),
    });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      new RegExp(
        `^webhook-receiver send: cannot reach http://127\\.0\\.0\\.1:${port}/webhook: .*ECONNREFUSED.*\\n$`,
      ),
    );
  });
});

describe('cli seed --count', () => {
  const path = join(dir.path, 'generated.db');
  const url = `sqlite:///${path}`;

  it('stores exactly N generated messages', async () => {
    const result = await cli(['seed', '--count', '2000', '--database-url', url]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(summary(result.stdout), { created: 2000, duplicates: 0, invalid: 0 });
    assert.match(result.stderr, /^seeding: 100%, 2000 messages/m);
    assert.equal(await storedCount(path), 2000);
  });

  it('generates the same messages again for the same seed: all duplicates', async () => {
    const result = await cli(['seed', '--count', '2000', '--database-url', url, '--seed', '1']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(summary(result.stdout), { created: 0, duplicates: 2000, invalid: 0 });
    assert.equal(await storedCount(path), 2000);
  });

  it('generates other ids for another seed, into DATABASE_URL relative to the directory', async () => {
    const result = await cli(['seed', '--count', '300', '--seed', 'b'], {
      env: { DATABASE_URL: 'sqlite:///generated.db' },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(summary(result.stdout), { created: 300, duplicates: 0, invalid: 0 });
    assert.equal(await storedCount(path), 2300);
  });
});

describe('cli seed --file', () => {
  const valid = (id: string, text: string) => JSON.stringify(message({ message_id: id, text }));
  const lines = [
    valid('j1', 'first'),
    valid('j2', 'second'),
    valid('j1', 'a different body for a stored id'),
    '{"message_id": "j3", ',
    JSON.stringify(message({ message_id: 'j4', from: '12345' })),
    '',
    valid('j5', 'after a blank line'),
  ];
  const file = join(dir.path, 'messages.jsonl');
  const path = join(dir.path, 'lines.db');
  before(() => writeFileSync(file, `${lines.join('\n')}\n`));

  it('stores the valid lines once, reports the invalid ones by line number and exits 1', async () => {
    const result = await cli(['seed', '--file', file, '--database-url', `sqlite:///${path}`]);
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(summary(result.stdout), { created: 3, duplicates: 1, invalid: 2 });
    assert.match(result.stderr, /^line 4: not JSON: /m);
    assert.match(result.stderr, /^line 5: from: String should match pattern/m);
    assert.doesNotMatch(result.stderr, /^line [1-367]:/m);
    const store = new SqliteStore({ path });
    try {
      const page = await store.list({}, { limit: 10, offset: 0 });
      assert.deepEqual(page.data.map((m) => m.message_id).sort(), ['j1', 'j2', 'j5']);
      assert.equal(page.data.find((m) => m.message_id === 'j1')?.text, 'first');
    } finally {
      await store.close();
    }
  });

  it('reads standard input for --file - and exits 0 when every line is valid', async () => {
    const input = `${valid('k1', 'one')}\r\n${valid('k2', 'two')}`;
    const result = await cli(['seed', '--file', '-', '--database-url', `sqlite:///${path}`], {
      input,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(summary(result.stdout), { created: 2, duplicates: 0, invalid: 0 });
    assert.equal(await storedCount(path), 5);
  });

  it('rejects lines that are not UTF-8 or hold an impossible ts, like the webhook', async () => {
    const input = Buffer.concat([
      Buffer.from(`${valid('u1', 'ok')}\n{"message_id":"u2","text":"\xff"}\n`, 'latin1'),
      Buffer.from(`${JSON.stringify(message({ message_id: 'u3', ts: '2025-02-30T00:00:00Z' }))}\n`),
    ]);
    const result = await cli(['seed', '--file', '-', '--database-url', `sqlite:///${path}`], {
      input,
    });
    assert.equal(result.code, 1);
    assert.deepEqual(summary(result.stdout), { created: 1, duplicates: 0, invalid: 2 });
    assert.match(result.stderr, /^line 2: not valid UTF-8$/m);
    assert.match(result.stderr, /^line 3: ts: /m);
  });

  it('exits 1 without creating a database when the file is missing', async () => {
    const missing = join(dir.path, 'never.db');
    const result = await cli([
      'seed',
      '--file',
      'nope.jsonl',
      '--database-url',
      `sqlite:///${missing}`,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^webhook-receiver seed: cannot read nope\.jsonl/);
    assert.ok(!existsSync(missing), 'no database file was created');
  });
});

describe('the generated messages', () => {
  const COUNT = 20_000;
  let messages: Message[];
  before(() => {
    const next = generator('7');
    messages = Array.from({ length: COUNT }, () => next());
  });

  it('are the same for the same seed and numbered seed<S>-00000001...', () => {
    const again = generator('7');
    for (let i = 0; i < 50; i++) assert.deepEqual(again(), messages[i]);
    assert.equal(messages[0]?.message_id, 'seed7-00000001');
    assert.equal(messages[COUNT - 1]?.message_id, 'seed7-00020000');
    const other = generator('8');
    const sample = (m: Message | undefined) => [m?.from, m?.ts, m?.text];
    const differ = messages.slice(0, 50).filter((m) => {
      const o = other();
      assert.equal(o.message_id, m.message_id.replace('seed7-', 'seed8-'));
      return JSON.stringify(sample(o)) !== JSON.stringify(sample(m));
    });
    assert.ok(differ.length > 45, 'another seed gives other messages');
  });

  it('are valid webhook messages', () => {
    const validate = ajv.compile(MessageSchema);
    for (const m of messages) assert.ok(validate(m), `${JSON.stringify(m)} is valid`);
  });

  it('come from about 1000 senders, a few of them sending most', () => {
    const perSender = new Map<string, number>();
    for (const m of messages) perSender.set(m.from, (perSender.get(m.from) ?? 0) + 1);
    assert.ok(perSender.size > 700 && perSender.size <= 1000, `${perSender.size} senders`);
    const counts = [...perSender.values()].sort((a, b) => b - a);
    const top = (counts[0] ?? 0) / COUNT;
    const topTen = counts.slice(0, 10).reduce((a, b) => a + b, 0) / COUNT;
    assert.ok(top > 0.08 && top < 0.2, `the top sender sends ${top}`);
    assert.ok(topTen > 0.3, `the top 10 senders send ${topTen}`);
  });

  it('spread over 30 days, with texts of 0 to 300 characters, mixed scripts, some without', () => {
    const instants = messages.map((m) => Date.parse(m.ts));
    const first = Math.min(...instants);
    const last = Math.max(...instants);
    assert.ok(first >= WINDOW_START, `first ts ${first}`);
    assert.ok(last < WINDOW_START + WINDOW_SECONDS * 1000, `last ts ${last}`);
    assert.ok(last - first > 29 * 86_400_000, 'the timestamps cover the window');
    const texts = messages.map((m) => m.text).filter((t): t is string => typeof t === 'string');
    const without = 1 - texts.length / COUNT;
    assert.ok(without > 0.08 && without < 0.12, `${without} without text`);
    const lengths = texts.map((t) => Array.from(t).length);
    assert.ok(Math.max(...lengths) === 300, 'the longest text has 300 characters');
    assert.ok(
      lengths.some((n) => n < 5),
      'some texts are very short',
    );
    assert.ok(
      texts.some((t) => t.includes('👋')),
      'some texts hold the emoji',
    );
    assert.ok(
      texts.some((t) => /[éßа-я\u0370-\u03ff]/.test(t)),
      'some texts are not ASCII',
    );
    assert.ok(new Set(texts).size > texts.length * 0.95, 'texts are almost all distinct');
  });
});
