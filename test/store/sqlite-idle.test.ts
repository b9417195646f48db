import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Message } from '../../src/message.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { tempDir } from '../helpers.js';

const message = (id: string): Message => ({
  message_id: id,
  from: '+919876543210',
  to: '+14155550100',
  ts: '2025-01-15T10:00:00Z',
  text: `hello number ${id} from the idle test`,
});

/** Polls `check` every 50 ms until it holds, for at most `ms`; whether it held. */
async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await sleep(50)) {
    if (check()) return true;
  }
  return check();
}

/**
 * How many messages the database file alone holds, its write-ahead log left out (-1: not even
 * the table yet).
 */
function messagesInFileAlone(path: string, copy: string): number {
  for (const suffix of ['-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
  copyFileSync(path, copy);
  const db = new Database(copy);
  try {
    return db.prepare('SELECT count(*) FROM messages').pluck().get() as number;
  } catch {
    return -1;
  } finally {
    db.close();
  }
}

describe('SqliteStore in idle time', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('merges the search index only in idle steps, until nothing is left to merge', async () => {
    const path = join(dir.path, 'merge.db');
    const store = new SqliteStore({ path });
    try {
      // rounds indexed apart: each indexing step writes a segment of its own
      for (let round = 0; round < 12; round++) {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.insert(message(`r${round}-${i}`))),
        );
        assert.ok(await eventually(() => store.searchBacklog() === 0), 'indexed');
      }
      const db = new Database(path, { timeout: 5000 });
      try {
        const automerge = db
          .prepare("SELECT v FROM messages_search_config WHERE k = 'automerge'")
          .pluck()
          .get();
        assert.equal(automerge, 0, 'no merging inside the transactions that write the index');
        const merge = db.prepare(
          "INSERT INTO messages_search (messages_search, rank) VALUES ('merge', 1000)",
        );
        const total = db.prepare('SELECT total_changes()').pluck();
        // a merge that finds levels of 4 segments or more changes 2 rows or more
        const leftToMerge = () => {
          const before = total.get() as number;
          merge.run();
          return (total.get() as number) - before;
        };
        await sleep(500);
        assert.ok(leftToMerge() < 2, 'the idle steps merged every level');
        const found = db
          .prepare(
            'SELECT count(*) FROM messages_search WHERE messages_search MATCH \'"idle test"\'',
          )
          .pluck()
          .get();
        assert.equal(found, 240);
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });

  it('copies what it committed into the database file soon after, without waiting to close', async () => {
    const path = join(dir.path, 'checkpoint.db');
    const copy = join(dir.path, 'checkpoint-copy.db');
    const store = new SqliteStore({ path });
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.insert(message(`a${i}`))));
      assert.ok(
        await eventually(() => messagesInFileAlone(path, copy) === 50),
        'the first 50 reached the file',
      );
      await Promise.all(Array.from({ length: 30 }, (_, i) => store.insert(message(`b${i}`))));
      assert.ok(
        await eventually(() => messagesInFileAlone(path, copy) === 80),
        'the next 30 reached the file',
      );
    } finally {
      await store.close();
    }
  });
});
