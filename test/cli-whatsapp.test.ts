import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { generator } from '../src/cli/generate.js';
import { hubSignatureVerifies, runCli } from './harness/cli.js';
import { tempDir } from './helpers.js';

/**
 * `sign --whatsapp` and `send --whatsapp` of the built command-line tool, against a stand-in
 * receiver that records each request's exact bytes: Meta's envelope, the escaping, the
 * signature over the raw body, batching, exit codes and usage errors.
 */

const APP_SECRET = 'meta-app-secret-0123456789';
const dir = tempDir();
after(() => dir.remove());
const cli = (args: string[], env: Record<string, string> = {}) => runCli(dir.path, args, env);
const verifies = (header: string | string[] | undefined, body: Buffer, secret = APP_SECRET) =>
  hubSignatureVerifies(header, body, secret);

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
