import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Message } from '../../src/message.js';
import { readMigrations } from '../../src/store/migrations.js';
import { openConnection } from '../../src/store/sqlite/connection.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { SqliteWriter } from '../../src/store/sqlite/writer.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { holdWriteLock } from '../harness/sqlite-lock.js';
import { sqliteKind, tempDir } from '../helpers.js';
import { expectedIds, randomMessages, storeContract, toFilter } from './contract.js';

storeContract(sqliteKind);
storeContract({
  name: 'sqlite :memory:',
  async open() {
    const store = new SqliteStore({ path: ':memory:' });
    return { store, cleanup: () => store.close() };
  },
});

const m = (id: string): Message => ({
  message_id: id,
  from: '+919876543210',
  to: '+14155550100',
  ts: '2025-01-15T10:00:00Z',
});

describe('SqliteStore', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('creates missing directories and records each migration once', async () => {
    const path = join(dir.path, 'nested', 'deeper', 'app.db');
    const first = new SqliteStore({ path });
    await first.insert(m('kept'));
    await first.close();
    assert.ok(existsSync(path), 'database file created');
    const second = new SqliteStore({ path });
    assert.deepEqual(await second.check(), { database: 'ok', schema: 'ok' });
    assert.equal((await second.list({}, { limit: 10, offset: 0 })).total, 1);
    await second.close();
    const db = new Database(path, { readonly: true });
    assert.deepEqual(
      db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all(),
      readMigrations('sqlite').map(({ version, name }) => ({ version, name })),
    );
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('searches through the trigram index and its unindexed tail alike', async () => {
    const store = new SqliteStore({ path: join(dir.path, 'search.db') });
    try {
      const messages = randomMessages(600, 3);
      const queries = ['a', 'ab', 'aba', 'ÉÉ', 'é a', '%_', '\\"', '"a', 'abab', 'σσσ', '😀a'];
      const check = async (label: string) => {
        for (const q of queries) {
          const page = await store.list(toFilter({ q }), { limit: 100, offset: 0 });
          const ids = expectedIds(messages, { q });
          assert.equal(page.total, ids.length, `${label}: total for ${q}`);
          assert.deepEqual(
            page.data.map((x) => x.message_id),
            ids.slice(0, 100),
            `${label}: ${q}`,
          );
        }
      };
      await Promise.all(messages.slice(0, 300).map((x) => store.insert(x)));
      for (let i = 0; i < 200 && store.searchBacklog() > 0; i++) await setTimeout(25);
      assert.equal(store.searchBacklog(), 0, 'the indexer caught up');
      await Promise.all(messages.slice(300).map((x) => store.insert(x)));
      await check('half indexed');
      for (let i = 0; i < 200 && store.searchBacklog() > 0; i++) await setTimeout(25);
      assert.equal(store.searchBacklog(), 0, 'the indexer caught up again');
      await check('all indexed');
    } finally {
      await store.close();
    }
  });

  describe('when another process holds the write lock', () => {
    const path = join(dir.path, 'locked.db');
    let store: SqliteStore;
    before(() => {
      store = new SqliteStore({ path });
    });
    after(() => store.close());

    it('never makes the search indexer wait for the lock (a write would wait behind it)', async () => {
      const db = openConnection(path, 1024);
      const writer = new SqliteWriter(db);
      writer.write(
        [m('unindexed-1'), m('unindexed-2')].map((x) => [
          x.message_id,
          x.from,
          x.to,
          x.ts,
          1736935200000000n,
          'some text',
          'some text',
        ]),
      );
      const lock = await holdWriteLock(path, 1500);
      const started = Date.now();
      assert.throws(() => writer.indexAlone(100), { code: 'SQLITE_BUSY' });
      const waited = Date.now() - started;
      assert.ok(waited < 500, `the indexer waited ${waited} ms for the lock`);
      await lock.done;
      assert.equal(writer.indexAlone(100) >= 2, true, 'indexes once the lock is gone');
      db.close();
    });

    it('waits for a lock shorter than 5 s, then commits', async () => {
      const lock = await holdWriteLock(path, 800);
      const started = Date.now();
      assert.equal(await store.insert(m('after-short-lock')), 'created');
      assert.ok(Date.now() - started >= 500, 'the insert waited for the lock');
      await lock.done;
    });

    it('gives up after 5 s with StoreUnavailableError, then recovers', async () => {
      const lock = await holdWriteLock(path, 7000);
      const started = Date.now();
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 50);
      await assert.rejects(store.insert(m('during-long-lock')), StoreUnavailableError);
      clearInterval(ticker);
      const waited = Date.now() - started;
      assert.ok(waited >= 4900 && waited < 6900, `gave up after ${waited} ms`);
      // the wait happens in the writer thread: this thread kept serving timers (and HTTP)
      assert.ok(ticks >= 60, `the event loop ran ${ticks} ticks of 50 ms while the write waited`);
      await lock.done;
      assert.equal(await store.insert(m('during-long-lock')), 'created');
    });
  });
});
