import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { generator } from '../src/cli/generate.js';
import { ROOT } from './harness/server.js';
import { tempDir } from './helpers.js';

/**
 * `sign --whatsapp` and `send --whatsapp` of the built command-line tool, against a stand-in
 * receiver that records each request's exact bytes: Meta's envelope, the escaping, the
 * signature over the raw body, batching, exit codes and usage errors.
 */

const CLI = join(ROOT, 'dist', 'cli.js');
const APP_SECRET = 'meta-app-secret-0123456789';
const dir = tempDir();
after(() => dir.remove());

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

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

/** True when `header` is `sha256=` and the hex HMAC-SHA256 of exactly `body`. */
function verifies(
  header: string | string[] | undefined,
  body: Buffer,
  secret = APP_SECRET,
): boolean {
  if (typeof header !== 'string') return false;
  const match = /^sha256=([0-9a-f]{64})$/.exec(header);
  if (match === null) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(match[1] as string, 'hex'), expected);
}

interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Item {
  from: string;
  id: string;
  timestamp: string;
  type: string;
  text?: { body: string };
}

interface Change {
  field: string;
  value: {
    messaging_product: string;
    metadata: { display_phone_number: string; phone_number_id: string };
    contacts: { profile: { name: string }; wa_id: string }[];
    messages: Item[];
  };
}

function changesOf(body: Buffer): Change[] {
  const envelope = JSON.parse(body.toString('utf8'));
  assert.equal(envelope.object, 'whatsapp_business_account');
  assert.equal(envelope.entry.length, 1);
  assert.match(envelope.entry[0].id, /^[0-9]+$/);
  return envelope.entry[0].changes;
}

const lines = [
  {
    message_id: 'wa-1',
    from: '+447700900123',
    to: '+15557850142',
    ts: '2025-12-02T10:01:00Z',
    text: 'Café à São Paulo 👋 http://x/y',
  },
  { message_id: 'wa-2', from: '+919812345670', to: '+15557850142', ts: '2025-12-02T10:02:00.75Z' },
  {
    message_id: 'wa-3',
    from: '+447700900123',
    to: '+4930901820',
    ts: '2025-12-02T10:03:00Z',
    text: null,
  },
];

describe('cli send --whatsapp, against a receiver that records the bytes', () => {
  let server: Server;
  let base: string;
  let captured: Captured[] = [];
  let answer: (index: number) => [number, string] = () => [200, '{"status":"ok"}'];

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        captured.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks),
        });
        const [status, body] = answer(captured.length - 1);
        response.writeHead(status, { 'content-type': 'application/json' }).end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object', 'the receiver listens');
    base = `http://127.0.0.1:${address.port}/`;
    writeFileSync(
      join(dir.path, 'messages.jsonl'),
      `${lines.map((line) => JSON.stringify(line)).join('\n')}\n\n{"message_id": ""}\nnot json\n`,
    );
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    captured = [];
    answer = () => [200, '{"status":"ok"}'];
  });

  it("wraps a file's messages in Meta's envelope, signed over the exact bytes", async () => {
    writeFileSync(join(dir.path, 'valid.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
    const result = await cli(['send', '--whatsapp', '--url', base, 'valid.jsonl'], {
      WHATSAPP_APP_SECRET: APP_SECRET,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^deliveries 1, messages 3, refused 0, invalid 0, /);
    assert.equal(captured.length, 1);
    const [request] = captured;
    assert.ok(request, 'one request');
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/webhooks/whatsapp');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.ok(verifies(request.headers['x-hub-signature-256'], request.body), 'the signature');
    assert.ok(
      request.body.every((byte) => byte < 0x80),
      'the body is ASCII only',
    );
    const raw = request.body.toString('latin1');
    assert.ok(raw.includes('Caf\\u00e9 \\u00e0 S\\u00e3o Paulo \\ud83d\\udc4b'), raw);
    assert.ok(raw.includes('http:\\/\\/x\\/y'), '/ is escaped as Meta does');
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw)));
    assert.ok(!verifies(request.headers['x-hub-signature-256'], reserialised), 'only raw bytes');

    const changes = changesOf(request.body);
    assert.deepEqual(
      changes.map((c) => [
        c.field,
        c.value.messaging_product,
        c.value.metadata.display_phone_number,
      ]),
      [
        ['messages', 'whatsapp', '15557850142'],
        ['messages', 'whatsapp', '4930901820'],
      ],
    );
    const [first, second] = changes;
    assert.deepEqual(first?.value.messages, [
      {
        from: '447700900123',
        id: 'wa-1',
        timestamp: '1764669660',
        type: 'text',
        text: { body: lines[0]?.text },
      },
      {
        from: '919812345670',
        id: 'wa-2',
        timestamp: '1764669720',
        type: 'sticker',
        sticker: {
          mime_type: 'image/webp',
          sha256: Buffer.from('wa-2').toString('base64'),
          id: '912345670',
          animated: false,
        },
      },
    ]);
    assert.deepEqual(
      first?.value.contacts.map((c) => c.wa_id),
      ['447700900123', '919812345670'],
    );
    assert.deepEqual(
      second?.value.messages.map((m) => [m.id, m.type, m.timestamp]),
      [['wa-3', 'sticker', '1764669780']],
    );
    assert.deepEqual(second?.value.contacts, [
      { profile: { name: 'Customer 0123' }, wa_id: '447700900123' },
    ]);
  });

  it('batches generated messages, N to a delivery, the same ones as seed --count', async () => {
    const result = await cli(
      ['send', '--whatsapp', '--url', base, '--count', '25', '--seed', 'w', '--batch', '10'],
      { WHATSAPP_APP_SECRET: APP_SECRET },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^deliveries 3, messages 25, refused 0, invalid 0, /);
    assert.equal(captured.length, 3);
    const next = generator('w');
    const expected = Array.from({ length: 25 }, next);
    const sent = captured.flatMap((request) => {
      assert.ok(verifies(request.headers['x-hub-signature-256'], request.body), 'each signed');
      return changesOf(request.body).flatMap((change) =>
        change.value.messages.map((m) => ({ change, m })),
      );
    });
    assert.deepEqual(
      captured.map((r) => changesOf(r.body).reduce((n, c) => n + c.value.messages.length, 0)),
      [10, 10, 5],
    );
    assert.deepEqual(sent.map(({ m }) => m.id).sort(), expected.map((m) => m.message_id).sort());
    for (const { change, m } of sent) {
      const message = expected.find((e) => e.message_id === m.id);
      assert.ok(message, m.id);
      assert.equal(`+${m.from}`, message.from);
      assert.equal(`+${change.value.metadata.display_phone_number}`, message.to);
      assert.equal(m.timestamp, String(Date.parse(message.ts) / 1000));
      assert.equal(m.text?.body ?? null, message.text ?? null);
    }
  });

  it('reports refused deliveries and invalid lines, and exits 1', async () => {
    answer = (index) => (index === 1 ? [401, '{"detail":"invalid signature"}'] : [200, '{}']);
    const result = await cli([
      'send',
      '--whatsapp',
      '--url',
      base,
      '--secret',
      APP_SECRET,
      '--batch',
      '1',
      'messages.jsonl',
    ]);
    assert.equal(result.code, 1);
    assert.equal(captured.length, 3);
    assert.match(
      result.stdout,
      /^delivery 2 \(messages 2-2\): 401 Unauthorized \{"detail":"invalid signature"\}\ndeliveries 3, messages 3, refused 1, invalid 2, /,
    );
    assert.match(
      result.stderr,
      /^line 5: .*message_id: String should have at least 1 character\nline 6: not JSON/,
    );
    assert.ok(!result.stdout.includes(APP_SECRET) && !result.stderr.includes(APP_SECRET));
  });

  it('builds one message from options', async () => {
    const result = await cli(
      [
        'send',
        '--whatsapp',
        '--url',
        base,
        '--id',
        'opt-1',
        '--from',
        '+15550001111',
        '--to',
        '+15550002222',
        '--ts',
        '2025-01-15T10:00:00Z',
        '--text',
        'hi',
      ],
      { WHATSAPP_APP_SECRET: APP_SECRET },
    );
    assert.equal(result.code, 0, result.stderr);
    const [change] = changesOf(captured[0]?.body ?? Buffer.from('{}'));
    assert.deepEqual(change?.value.messages, [
      {
        from: '15550001111',
        id: 'opt-1',
        timestamp: '1736935200',
        type: 'text',
        text: { body: 'hi' },
      },
    ]);
  });

  it('exits 1 when the service cannot be reached', async () => {
    const result = await cli(
      ['send', '--whatsapp', '--url', 'http://127.0.0.1:9', '--count', '1'],
      {
        WHATSAPP_APP_SECRET: APP_SECRET,
      },
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot reach http:\/\/127\.0\.0\.1:9\/webhooks\/whatsapp/);
  });
});

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
