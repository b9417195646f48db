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

describe('SqliteStore checkpoints', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('copies what the writer committed into the database file soon after, beside the writer', async () => {
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
