import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generator } from '../src/cli/generate.js';
import { runCli } from './harness/cli.js';
import { freePort, type ServerProcess, startServer, stopServer } from './harness/server.js';
import { dropTestDatabasesAfterwards, freshSchema, POSTGRES_SKIP, tempDir } from './helpers.js';

/**
 * `send --whatsapp` against the built server on a real socket, on each store: what it sends is
 * stored as WhatsApp messages, a second run stores nothing new, and `seed --count` with the same
 * seed finds every message already there.
 */

const APP_SECRET = 'e2e-app-secret-0123456789';
const dir = tempDir();
after(() => dir.remove());
dropTestDatabasesAfterwards();

interface Detail {
  message_id: string;
  from: string;
  to: string;
  ts: string;
  text: string | null;
  source: string;
  type: string | null;
  contact_name: string | null;
  reply_to: string | null;
  payload: Record<string, unknown> | null;
}

const stores: { name: string; skip: string | false; url: () => Promise<string> }[] = [
  { name: 'sqlite', skip: false, url: async () => `sqlite:///${join(dir.path, 'e2e.db')}` },
  { name: 'postgres', skip: POSTGRES_SKIP, url: async () => (await freshSchema()).url },
];

for (const kind of stores) {
  describe(`cli send --whatsapp to the built server (${kind.name})`, { skip: kind.skip }, () => {
    let server: ServerProcess;
    let databaseUrl: string;
    const cli = (args: string[]) =>
      runCli(dir.path, [...args, ...(args[0] === 'send' ? ['--url', server.base] : [])], {
        WHATSAPP_APP_SECRET: APP_SECRET,
      });
    const total = async () =>
      ((await (await fetch(`${server.base}/stats`)).json()) as { total_messages: number })
        .total_messages;
    const detail = async (id: string) => {
      const response = await fetch(`${server.base}/messages/${encodeURIComponent(id)}`);
      assert.equal(response.status, 200, id);
      return (await response.json()) as Detail;
    };

    before(async () => {
      databaseUrl = await kind.url();
      server = await startServer(
        { WHATSAPP_APP_SECRET: APP_SECRET, DATABASE_URL: databaseUrl, LOG_LEVEL: 'ERROR' },
        { port: await freePort() },
      );
    });
    after(() => stopServer(server));

    it('stores generated messages, batch by batch, as WhatsApp messages', async () => {
      const result = await cli(['send', '--whatsapp', '--count', '250', '--seed', 'e2e']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^deliveries 3, messages 250, refused 0, invalid 0, /);
      assert.equal(await total(), 250);
      const next = generator('e2e');
      const sent = Array.from({ length: 250 }, next);
      for (const message of [sent[0], sent[99], sent[100], sent[249], sent.find((m) => !m.text)]) {
        assert.ok(message, 'a generated message');
        const stored = await detail(message.message_id);
        assert.deepEqual(
          [stored.from, stored.to, stored.ts, stored.text, stored.source, stored.reply_to],
          [message.from, message.to, message.ts, message.text ?? null, 'whatsapp', null],
        );
        assert.equal(stored.type, typeof message.text === 'string' ? 'text' : 'sticker');
        assert.equal(stored.contact_name, `Customer ${message.from.slice(-4)}`);
        assert.equal(stored.payload?.id, message.message_id);
      }
    });

    it('stores nothing new when the same deliveries come again', async () => {
      const result = await cli(['send', '--whatsapp', '--count', '250', '--seed', 'e2e']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await total(), 250);
    });

    it('sends a JSON Lines file with non-ASCII text that only its raw bytes sign', async () => {
      const lines = [
        {
          message_id: 'e2e/é?#%20 👋',
          from: '+447700900123',
          to: '+15557850142',
          ts: '2025-12-02T10:01:00Z',
          text: 'Olá, São Paulo 👋 €5/kg',
        },
        {
          message_id: 'e2e-2',
          from: '+919812345670',
          to: '+15557850142',
          ts: '2025-12-02T10:02:00Z',
        },
      ];
      writeFileSync(join(dir.path, 'e2e.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
      const result = await cli(['send', '--whatsapp', 'e2e.jsonl']);
      assert.equal(result.code, 0, result.stderr);
      const first = await detail('e2e/é?#%20 👋');
      assert.equal(first.text, 'Olá, São Paulo 👋 €5/kg');
      assert.equal((await detail('e2e-2')).text, null);
      assert.equal(await total(), 252);
    });

    it('is refused whole with a wrong app secret, storing nothing', async () => {
      const result = await runCli(
        dir.path,
        ['send', '--whatsapp', '--url', server.base, '--count', '10', '--seed', 'refused'],
        { WHATSAPP_APP_SECRET: 'wrong' },
      );
      assert.equal(result.code, 1);
      assert.match(
        result.stdout,
        /^delivery 1 \(messages 1-10\): 401 Unauthorized \{"detail":"invalid signature"\}\n/,
      );
      assert.equal(await total(), 252);
    });

    it('leaves seed --count with the same seed only duplicates', async () => {
      const result = await runCli(dir.path, [
        'seed',
        '--count',
        '250',
        '--seed',
        'e2e',
        '--database-url',
        databaseUrl,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^created 0, duplicates 250, invalid 0, /);
    });
  });
}
