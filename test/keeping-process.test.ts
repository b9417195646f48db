import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../src/store/open.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { runCli } from './harness/cli.js';
import { send } from './harness/http.js';
import { type Message, signed, uniqueMessage } from './harness/messages.js';
import { assertPostgresRecount, assertSqliteRecount } from './harness/recount.js';
import { type ServerProcess, startServer, stopServer } from './harness/server.js';
import {
  createTestDatabase,
  dropTestDatabasesAfterwards,
  POSTGRES_SKIP,
  tempDir,
} from './helpers.js';

/**
 * Keeping data on the built server, under load: a backup taken while it ingests, restored; and
 * a retention sweep killed with SIGKILL halfway, after which nothing acknowledged is lost and
 * every total still equals a recount.
 */

const SECRET = 'keeping-secret';
const dir = tempDir();
after(() => dir.remove());
dropTestDatabasesAfterwards();

/** Sends unique signed messages from `workers` loops until stop(); records each acknowledged id. */
function load(base: string, prefix: string, workers = 4) {
  const acked: string[] = [];
  let stopped = false;
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      const m = uniqueMessage(prefix);
      const { headers, body } = signed(SECRET, JSON.stringify(m));
      const sent = await send(`${base}/webhook`, { method: 'POST', headers, body });
      if (sent.outcome.kind === 'answered' && sent.outcome.status === 200) acked.push(m.message_id);
      else if (sent.outcome.kind !== 'answered') await setTimeout(20);
    }
  });
  return {
    acked,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Waits until `holds()`, checking every 10 ms, for at most `ms`. */
async function until(what: string, holds: () => boolean, ms = 30_000): Promise<void> {
  const end = performance.now() + ms;
  while (!holds()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await setTimeout(10);
  }
}

function storedIds(path: string, ids: string[]): Set<string> {
  const db = new Database(path, { readonly: true });
  try {
    const has = db.prepare('SELECT 1 FROM messages WHERE message_id = ?').pluck();
    return new Set(ids.filter((id) => has.get(id) !== undefined));
  } finally {
    db.close();
  }
}

/** `count` old messages (received in 2020) in a new SQLite file, indexed for search. */
async function oldMessages(path: string, count: number): Promise<Message[]> {
  const store = new SqliteStore({ path });
  const messages = Array.from({ length: count }, () => uniqueMessage('old'));
  try {
    for (let i = 0; i < count; i += 5000) {
      await Promise.all(
        messages
          .slice(i, i + 5000)
          .map((m) => store.insert(m, { received_at: '2020-01-01T00:00:00Z' })),
      );
    }
    for (let i = 0; i < 1000 && store.searchBacklog() > 0; i++) await setTimeout(20);
  } finally {
    await store.close();
  }
  return messages;
}

describe('keeping data on the built server', () => {
  it('backs up while ingesting: the copy is intact, holds every earlier ack, and restores', async () => {
    const path = join(dir.path, 'backup-source.db');
    await oldMessages(path, 20_000);
    const server = await startServer({ WEBHOOK_SECRET: SECRET, DATABASE_URL: `sqlite:///${path}` });
    const traffic = load(server.base, 'live');
    let copy: string;
    let ackedBefore: string[];
    try {
      await until('200 acknowledgements', () => traffic.acked.length >= 200);
      ackedBefore = [...traffic.acked];
      copy = join(dir.path, 'backup.db');
      const result = await runCli(dir.path, [
        'backup',
        copy,
        '--database-url',
        `sqlite:///${path}`,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(traffic.acked.length > ackedBefore.length, 'ingest went on during the backup');
    } finally {
      await traffic.stop();
      await stopServer(server);
    }
    assertSqliteRecount(copy, 'the backup');
    assert.equal(storedIds(copy, ackedBefore).size, ackedBefore.length, 'every earlier ack');
    // restore: the copy in place of the database, and the service starts on it
    const restored = join(dir.path, 'restored.db');
    copyFileSync(copy, restored);
    const again = await startServer({
      WEBHOOK_SECRET: SECRET,
      DATABASE_URL: `sqlite:///${restored}`,
    });
    try {
      const ready = await send(`${again.base}/health/ready`);
      assert.equal(ready.outcome.kind === 'answered' && ready.outcome.status, 200);
      const stats = await send(`${again.base}/stats`);
      assert.ok(stats.outcome.kind === 'answered', 'stats answered');
      const total = JSON.parse(stats.outcome.body).total_messages;
      assert.ok(total >= 20_000 + ackedBefore.length, `restored ${total} messages`);
    } finally {
      await stopServer(again);
    }
  });

  it('loses nothing when killed with SIGKILL in the middle of a retention sweep', async () => {
    const path = join(dir.path, 'sweep.db');
    const old = await oldMessages(path, 30_000);
    const env = {
      WEBHOOK_SECRET: SECRET,
      DATABASE_URL: `sqlite:///${path}`,
      RETENTION_DAYS: '30',
      RETENTION_INTERVAL_S: '1',
    };
    const watch = new Database(path, { readonly: true });
    const oldLeft = watch
      .prepare("SELECT count(*) FROM messages WHERE received_at < '2021-01-01'")
      .pluck();
    let server: ServerProcess = await startServer(env);
    const traffic = load(server.base, 'during');
    let left: number;
    try {
      await until('the sweep under way', () => {
        left = oldLeft.get() as number;
        return left > 0 && left < old.length;
      });
      server.child.kill('SIGKILL');
      await server.exited;
    } finally {
      await traffic.stop();
    }
    left = oldLeft.get() as number;
    assert.ok(left > 0, `killed mid-sweep (${left} old messages left)`);
    assertSqliteRecount(path, 'after SIGKILL mid-sweep');
    const ids = traffic.acked;
    assert.ok(ids.length > 0, 'messages were acknowledged during the sweep');
    assert.equal(storedIds(path, ids).size, ids.length, 'every acknowledged message is stored');

    // started again, the next sweep finishes the job, and the totals still add up
    server = await startServer(env);
    try {
      await until('the sweep finished', () => oldLeft.get() === 0);
      await until('its log line', () => server.lines.some((l) => l.msg === 'retention sweep'));
    } finally {
      await stopServer(server);
      watch.close();
    }
    assertSqliteRecount(path, 'after the next sweep');
    assert.equal(storedIds(path, ids).size, ids.length, 'the new messages stay');
    const store = new SqliteStore({ path });
    try {
      const search = await store.list({ q: 'héllo' }, { limit: 1, offset: 0 });
      const db = new Database(path, { readonly: true });
      const counted = db
        .prepare("SELECT count(*) FROM messages WHERE instr(text_folded, 'héllo') > 0")
        .pluck()
        .get();
      db.close();
      assert.equal(search.total, counted, 'search finds exactly the rows left');
    } finally {
      await store.close();
    }
  });

  it('loses nothing on PostgreSQL when killed with SIGKILL in the middle of a retention sweep', {
    skip: POSTGRES_SKIP,
  }, async () => {
    const { url } = await createTestDatabase();
    const seedStore = await openStore({ kind: 'postgres', url, poolSize: 4, timeoutMs: 5000 });
    const old = Array.from({ length: 20_000 }, () => uniqueMessage('old'));
    for (let i = 0; i < old.length; i += 2000) {
      await Promise.all(
        old
          .slice(i, i + 2000)
          .map((m) => seedStore.insert(m, { received_at: '2020-01-01T00:00:00Z' })),
      );
    }
    await seedStore.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const query = async (sql: string) =>
      (await client.query({ text: sql, rowMode: 'array' })).rows as unknown[][];
    const oldLeft = async () =>
      Number(
        (await query("SELECT count(*) FROM messages WHERE received_at < '2021-01-01'"))[0]?.[0],
      );
    const env = {
      WEBHOOK_SECRET: SECRET,
      DATABASE_URL: url,
      RETENTION_DAYS: '30',
      RETENTION_INTERVAL_S: '1',
    };
    try {
      let server = await startServer(env);
      const traffic = load(server.base, 'pg-during');
      let left = old.length;
      try {
        const end = performance.now() + 60_000;
        while (left === old.length || left === 0) {
          if (performance.now() > end) throw new Error('no sweep under way within 60 s');
          await setTimeout(5);
          left = await oldLeft();
        }
        server.child.kill('SIGKILL');
        await server.exited;
      } finally {
        await traffic.stop();
      }
      left = await oldLeft();
      assert.ok(left > 0, `killed mid-sweep (${left} old messages left)`);
      await assertPostgresRecount(query, 'after SIGKILL mid-sweep');
      const ids = traffic.acked;
      assert.ok(ids.length > 0, 'messages were acknowledged during the sweep');
      const stored = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM messages WHERE message_id = ANY($1)',
        [ids],
      );
      assert.equal(stored.rows[0]?.n, ids.length, 'every acknowledged message is stored');
      server = await startServer(env);
      try {
        const end = performance.now() + 60_000;
        while ((await oldLeft()) > 0) {
          if (performance.now() > end) throw new Error('the next sweep did not finish');
          await setTimeout(50);
        }
      } finally {
        await stopServer(server);
      }
      await assertPostgresRecount(query, 'after the next sweep');
    } finally {
      await client.end();
    }
  });
});
