import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { CLI, runCli } from './harness/cli.js';
import { parseCsv } from './harness/csv.js';
import { tempDir } from './helpers.js';

/** The export, erase and backup commands of the built CLI, on a SQLite file. */

const dir = tempDir();
const path = join(dir.path, 'app.db');
const url = `sqlite:///${path}`;
const cli = (args: string[]) => runCli(dir.path, args);

before(async () => {
  assert.ok(existsSync(CLI), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
  const store = new SqliteStore({ path });
  for (let i = 0; i < 30; i++) {
    await store.insert({
      message_id: `m${String(i).padStart(2, '0')}`,
      from: i % 3 === 0 ? '+911111111111' : '+922222222222',
      to: '+14155550100',
      ts: `2025-01-15T10:00:${String(i).padStart(2, '0')}Z`,
      text: i % 5 === 0 ? '=SUM(A1), "quoted"\nline' : `text ${i}`,
    });
  }
  await store.close();
});
after(() => dir.remove());

describe('cli export', () => {
  it('writes NDJSON to standard output: every message, in order', async () => {
    const result = await cli(['export', '--database-url', url]);
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(rows.length, 30);
    assert.deepEqual(
      rows.map((r) => r.message_id),
      Array.from({ length: 30 }, (_, i) => `m${String(i).padStart(2, '0')}`),
    );
    assert.equal(result.stderr, '', 'no progress bar when standard error is not a terminal');
  });

  it('writes filtered CSV to a file that parses back', async () => {
    const file = join(dir.path, 'out.csv');
    const result = await cli([
      'export',
      '--format',
      'csv',
      '--from',
      '+911111111111',
      '--q',
      'SUM',
      '--output',
      file,
      '--database-url',
      url,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const [header, ...records] = parseCsv(readFileSync(file, 'utf8'));
    assert.deepEqual(header, ['message_id', 'from', 'to', 'ts', 'text']);
    assert.deepEqual(
      records.map((r) => r[0]),
      ['m00', 'm15'],
    );
    assert.equal(records[0]?.[4], '=SUM(A1), "quoted"\nline');
    assert.equal(existsSync(`${file}.partial`), false);
  });

  it('refuses a bad format or filter with exit code 2', async () => {
    for (const args of [
      ['--format', 'xml'],
      ['--from', '12345'],
      ['--since', 'yesterday'],
      ['--output', ''],
    ]) {
      const result = await cli(['export', ...args, '--database-url', url]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
  });
});

describe('cli erase', () => {
  it('erases a sender, then one message, leaving tombstones', async () => {
    const sender = await cli(['erase', '--from', '+911111111111', '--database-url', url]);
    assert.equal(sender.code, 0, sender.stderr);
    assert.equal(sender.stdout, 'erased 10 messages\n');
    const one = await cli(['erase', '--id', 'm01', '--database-url', url]);
    assert.equal(one.stdout, 'erased 1 message\n');
    const store = new SqliteStore({ path });
    try {
      assert.equal((await store.stats()).total_messages, 19);
      const again = {
        message_id: 'm00',
        from: '+911111111111',
        to: '+14155550100',
        ts: '2025-01-15T10:00:00Z',
      };
      assert.equal(await store.insert(again), 'duplicate', 'the tombstone holds');
    } finally {
      await store.close();
    }
  });

  it('needs exactly one of --from and --id, and a valid number', async () => {
    for (const args of [[], ['--from', '+1', '--id', 'x'], ['--from', '0123'], ['--id', '']]) {
      const result = await cli(['erase', ...args, '--database-url', url]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
  });
});

describe('cli backup', () => {
  it('copies the database; the copy passes integrity_check and holds every message', async () => {
    const file = join(dir.path, 'copy.db');
    const result = await cli(['backup', file, '--database-url', url]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^backed up \d+ pages to .* in [0-9.]+ s; integrity_check ok/);
    const copy = new Database(file, { readonly: true });
    try {
      assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(copy.prepare('SELECT count(*) FROM messages').pluck().get(), 19);
    } finally {
      copy.close();
    }
    const again = await cli(['backup', file, '--database-url', url]);
    assert.equal(again.code, 1, 'an existing file is never overwritten');
    assert.match(again.stderr, /exists already/);
  });

  it('refuses PostgreSQL, :memory: and a missing FILE with exit code 2', async () => {
    for (const args of [
      ['backup', 'x.db', '--database-url', 'postgres://localhost/db'],
      ['backup', 'x.db', '--database-url', 'sqlite://:memory:'],
      ['backup', '--database-url', url],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    }
  });
});
