import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generator } from '../src/cli/generate.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { runCli } from './harness/cli.js';
import { dropTestDatabasesAfterwards, freshSchema, POSTGRES_SKIP, tempDir } from './helpers.js';

/**
 * `seed --statuses N` and `seed --whatsapp --count N` of the built command-line tool, on each
 * store: what they leave in the database, read back through the store.
 */

const dir = tempDir();
after(() => dir.remove());
dropTestDatabasesAfterwards();

const stores: { name: string; skip: string | false; url: () => Promise<string> }[] = [
  { name: 'sqlite', skip: false, url: async () => `sqlite:///${join(dir.path, 'seed.db')}` },
  { name: 'postgres', skip: POSTGRES_SKIP, url: async () => (await freshSchema()).url },
];

/** The counts of seed's summary line. */
function counts(stdout: string): [number, number, number] {
  const match = /^created (\d+), duplicates (\d+), invalid (\d+), /m.exec(stdout);
  assert.ok(match, stdout);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

for (const kind of stores) {
  describe(`cli seed for WhatsApp (${kind.name})`, { skip: kind.skip }, () => {
    let url: string;
    const seed = (...args: string[]) => runCli(dir.path, ['seed', ...args, '--database-url', url]);
    const withStore = async <T>(use: (store: Store) => Promise<T>): Promise<T> => {
      const store = await openStore(
        url.startsWith('sqlite')
          ? { kind: 'sqlite', path: join(dir.path, 'seed.db') }
          : { kind: 'postgres', url, poolSize: 2, timeoutMs: 5000 },
      );
      try {
        return await use(store);
      } finally {
        await store.close();
      }
    };

    before(async () => {
      url = await kind.url();
    });

    it('--statuses N stores the statuses of N sent messages, once', async () => {
      const first = await seed('--statuses', '400', '--seed', 's');
      assert.equal(first.code, 0, first.stderr);
      const [created, duplicates] = counts(first.stdout);
      assert.equal(duplicates, 0);
      const stats = await withStore((store) => store.statusStats());
      assert.equal(stats.by_status.sent, 400, 'each message was sent');
      const delivered = stats.by_status.delivered ?? 0;
      const read = stats.by_status.read ?? 0;
      const failed = stats.by_status.failed ?? 0;
      assert.equal(created, 400 + delivered + read + failed);
      assert.ok(delivered + failed <= 400 && read <= delivered, JSON.stringify(stats));
      assert.ok(failed > 0 && read > 0, `some fail, some are read: ${JSON.stringify(stats)}`);
      assert.equal(
        stats.failures.reduce((sum, f) => sum + f.count, 0),
        failed,
      );
      const page = await withStore((store) =>
        store.listStatuses({ message_id: 'outs-00000001' }, { limit: 10, offset: 0 }),
      );
      assert.equal(page.data[0]?.status, 'sent');
      assert.match(page.data[0]?.recipient ?? '', /^\+[1-9][0-9]{1,14}$/);

      const again = await seed('--statuses', '400', '--seed', 's');
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(counts(again.stdout), [0, created, 0]);
    });

    it('--whatsapp --count N stores messages as a WhatsApp delivery would', async () => {
      const result = await seed('--whatsapp', '--count', '300', '--seed', 'w');
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(counts(result.stdout), [300, 0, 0]);
      const next = generator('w');
      const messages = Array.from({ length: 300 }, next);
      for (const message of [messages[0], messages[299], messages.find((m) => !m.text)]) {
        assert.ok(message, 'a generated message');
        const stored = await withStore((store) => store.get(message.message_id));
        assert.ok(stored, message.message_id);
        assert.deepEqual(
          [stored.from, stored.to, stored.ts, stored.text, stored.source],
          [message.from, message.to, message.ts, message.text ?? null, 'whatsapp'],
        );
        assert.equal(stored.type, typeof message.text === 'string' ? 'text' : 'sticker');
        assert.equal(stored.contact_name, `Customer ${message.from.slice(-4)}`);
        assert.equal(JSON.parse(stored.payload ?? '{}').id, message.message_id);
      }
      const plain = await seed('--count', '300', '--seed', 'w');
      assert.deepEqual(counts(plain.stdout), [0, 300, 0]);
    });
  });
}

describe('cli seed for WhatsApp: usage errors', () => {
  const mistakes: [string, string[], RegExp][] = [
    [
      '--statuses and --count',
      ['--statuses', '5', '--count', '5'],
      /either --count N or --file FILE, or --statuses N/,
    ],
    ['--statuses not a number', ['--statuses', 'many'], /--statuses must be a whole number/],
    ['--whatsapp with --file', ['--whatsapp', '--file', 'x.jsonl'], /--whatsapp goes with --count/],
    ['--whatsapp alone', ['--whatsapp'], /either --count N or --file FILE, or --statuses N/],
  ];
  for (const [what, args, reason] of mistakes) {
    it(`exits 2 for ${what}, creating no database`, async () => {
      const result = await runCli(dir.path, [
        'seed',
        ...args,
        '--database-url',
        'sqlite:///never.db',
      ]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, reason);
      assert.ok(!existsSync(join(dir.path, 'never.db')), 'no database was created');
    });
  }
});
