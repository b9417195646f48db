import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Message } from '../../src/message.js';
import { readMigrations } from '../../src/store/migrations.js';
import { detailsOf } from '../../src/store/records.js';
import { SqliteDeleter } from '../../src/store/sqlite/erase.js';
import { migrate } from '../../src/store/sqlite/migrate.js';
import { SqliteReader } from '../../src/store/sqlite/reader.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { type Row, rowOf, SqliteWriter } from '../../src/store/sqlite/writer.js';
import { tempDir } from '../helpers.js';
import { expectedIds, randomMessages, toFilter } from './contract.js';

/**
 * Migration 007 on a database whose search index is complete: the index is recreated
 * (contentless_delete=1) empty, and every search stays exact while the indexer fills it again,
 * deletes included, whether they take rows already indexed again or not yet.
 */

const QUERIES = ['aba', 'abab', 'bab', 'é a', '%_', 'σσσ', 'a', 'ab'];
const FILTERS = [{}, { from: '+222' }, { since: '2025-01-15T09:30:00Z' }];

const received = (i: number) => `2025-03-0${1 + (i % 3)}T12:00:00Z`;

/** A database at migration 006 holding `messages`, all of them in its search index. */
function databaseAt006(path: string, messages: Message[]): void {
  const db = new Database(path);
  try {
    db.exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY,
             name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
    for (const migration of readMigrations('sqlite').filter((m) => m.version <= 6)) {
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, 'then')").run(
        migration.version,
        migration.name,
      );
    }
    const writer = new SqliteWriter(db);
    writer.write(messages.map((m, i) => rowOf(m, detailsOf({ received_at: received(i) })) as Row));
    while (writer.indexAlone(1000) > 0);
    assert.equal(
      db.prepare('SELECT indexed_through FROM search_index').pluck().get(),
      messages.length,
      'complete before the migration',
    );
  } finally {
    db.close();
  }
}

/** Asserts that every search of `reader` finds exactly the messages of `left`. */
function assertSearches(readers: SqliteReader[], left: Message[], label: string): void {
  for (const reader of readers) {
    for (const q of QUERIES) {
      for (const filter of FILTERS) {
        const query = { ...filter, q };
        const ids = expectedIds(left, query);
        const page = reader.list(toFilter(query), { limit: 10, offset: 2 });
        const what = `${label} ${JSON.stringify(query)}`;
        assert.equal(page.total, ids.length, `total ${what}`);
        assert.deepEqual(
          page.data.map((m) => m.message_id),
          ids.slice(2, 12),
          what,
        );
      }
    }
  }
}

describe('migration 007 (search index with contentless_delete=1) on a database at 006', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('keeps every search exact while the index refills, deletes included', async () => {
    const path = join(dir.path, 'at006.db');
    const messages = randomMessages(600, 7);
    databaseAt006(path, messages);

    const db = new Database(path);
    let left = messages;
    try {
      assert.equal(migrate(db), readMigrations('sqlite').at(-1)?.version);
      const indexedThrough = db.prepare('SELECT indexed_through FROM search_index').pluck();
      assert.equal(indexedThrough.get(), 0, 'the index starts again from the first message');
      assert.equal(
        db
          .prepare(`SELECT count(*) FROM messages_search WHERE messages_search MATCH '"aba"'`)
          .pluck()
          .get(),
        0,
        'the new index is empty',
      );
      // both plans: along the other filters' index range, and through the trigram index
      const readers = [new SqliteReader(db, Number.MAX_SAFE_INTEGER), new SqliteReader(db, 0)];
      assertSearches(readers, left, 'index empty');

      const writer = new SqliteWriter(db);
      assert.equal(writer.indexAlone(250), 250);
      assertSearches(readers, left, 'index partly filled');

      // a sweep takes rows indexed again and rows not yet; an erasure, one of each
      const deleter = new SqliteDeleter(db);
      const before = '2025-03-02T00:00:00Z';
      let swept = 0;
      for (let n = -1; n !== 0; swept += n) {
        n = deleter.delete({
          target: { kind: 'received-before', before },
          limit: 40,
          tombstone: false,
        });
      }
      assert.equal(swept, messages.filter((_, i) => received(i) < before).length);
      left = messages.filter((_, i) => received(i) >= before);
      const erased = [left[10], left.at(-10)] as Message[];
      for (const m of erased) {
        const target = { kind: 'id', messageId: m.message_id } as const;
        assert.equal(deleter.delete({ target, limit: 1, tombstone: true }), 1);
      }
      left = left.filter((m) => !erased.includes(m));
      assertSearches(readers, left, 'after deletes, index partly filled');

      while (writer.indexAlone(100) > 0);
      assert.equal(indexedThrough.get(), messages.length);
      assertSearches(readers, left, 'index complete');
      // the index itself holds exactly the messages left: a deleted row is in none of its matches
      const byIndex = db
        .prepare('SELECT rowid FROM messages_search WHERE messages_search MATCH ? ORDER BY rowid')
        .pluck();
      const byScan = db
        .prepare('SELECT seq FROM messages WHERE instr(text_folded, ?) > 0 ORDER BY seq')
        .pluck();
      for (const q of QUERIES.filter((q) => [...q].length >= 3)) {
        const seqs = byScan.all(q);
        if (q === 'aba') assert.ok(seqs.length > 0, 'some message left holds aba');
        assert.deepEqual(byIndex.all(`"${q.replaceAll('"', '""')}"`), seqs, `index for ${q}`);
      }
      db.exec("INSERT INTO messages_search (messages_search) VALUES ('integrity-check')");
    } finally {
      db.close();
    }
  });

  it('is refilled by the running service, searches exact before and after', async () => {
    const path = join(dir.path, 'service.db');
    const messages = randomMessages(400, 9);
    databaseAt006(path, messages);
    const store = new SqliteStore({ path });
    try {
      const check = async (label: string) => {
        for (const q of QUERIES) {
          const ids = expectedIds(messages, { q });
          const page = await store.list(toFilter({ q }), { limit: 500, offset: 0 });
          assert.equal(page.total, ids.length, `${label}: total for ${q}`);
          assert.deepEqual(
            page.data.map((m) => m.message_id),
            ids,
            `${label}: ${q}`,
          );
        }
      };
      await check('right after the migration');
      for (let i = 0; i < 400 && store.searchBacklog() > 0; i++) await setTimeout(25);
      assert.equal(store.searchBacklog(), 0, 'the indexer refilled the index');
      await check('index refilled');
    } finally {
      await store.close();
    }
  });
});
