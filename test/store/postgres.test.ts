import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Message } from '../../src/message.js';
import { readMigrations } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open.js';
import { type Store, StoreUnavailableError } from '../../src/store/store.js';
import {
  byCodePoint,
  createTestDatabase,
  freshSchema,
  POSTGRES_SKIP,
  postgresKind,
  withClient,
} from '../helpers.js';
import { storeContract, toFilter } from './contract.js';

/** Every migration, as schema_migrations lists them once applied. */
const MIGRATIONS = readMigrations('postgres').map(({ version, name }) => ({ version, name }));

const m = (id: string, fields: Partial<Message> = {}): Message => ({
  message_id: id,
  from: '+919876543210',
  to: '+14155550100',
  ts: '2025-01-15T10:00:00Z',
  text: `text of ${id}`,
  ...fields,
});

const everything = { limit: 100, offset: 0 };

async function open(url: string, timeoutMs = 5000): Promise<Store> {
  return openStore({ kind: 'postgres', url, poolSize: 5, timeoutMs });
}

/** Holds an exclusive lock on the messages table of `url` from another session for `ms`. */
async function holdTableLock(url: string, ms: number): Promise<{ done: Promise<void> }> {
  let locked: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const done = withClient(url, async (client) => {
    await client.query('BEGIN');
    await client.query('LOCK TABLE messages IN EXCLUSIVE MODE');
    locked();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await client.query('COMMIT');
  });
  await Promise.race([held, done]);
  return { done };
}

storeContract(postgresKind());

describe('PostgresStore', { skip: POSTGRES_SKIP }, () => {
  let url: string;
  let schema: string;
  let store: Store;
  before(async () => {
    ({ url, schema } = await freshSchema());
    store = await open(url, 1000);
  });
  after(() => store?.close());

  it('stores U+0000-U+0002 in ids and text exactly, in code point order, plain text verbatim', async () => {
    const ids = ['\u0001', '\u0000', 'a\u0000b', '\u0002', 'a', '\u0000\u0000', 'plain'];
    for (const id of ids) await store.insert(m(id, { text: `x${id}\u0000y` }));
    const listed = (await store.list({}, everything)).data;
    assert.deepEqual(
      listed.map((row) => row.message_id),
      [...ids].sort(byCodePoint),
    );
    for (const row of listed) assert.equal(row.text, `x${row.message_id}\u0000y`);
    assert.equal(await store.insert(m('a\u0000b')), 'duplicate');
    assert.equal(await store.insert(m('a\u0001b')), 'created', 'U+0001 is not U+0000');
    // what psql shows: ordinary strings as they are
    const raw = await withClient(url, (client) =>
      client.query(`SELECT text FROM ${schema}.messages WHERE message_id = 'plain'`),
    );
    assert.deepEqual(raw.rows, [{ text: 'xplain\u0001\u0001y' }]);
    const cursorAfter = await store.list(
      {},
      { limit: 2, offset: 0, after: { instant: 1736935200000000n, messageId: '\u0000' } },
    );
    assert.deepEqual(
      cursorAfter.data.map((row) => row.message_id),
      ['\u0000\u0000', '\u0001'],
    );
    const found = await store.list(toFilter({ q: 'A\u0000B' }), everything);
    assert.deepEqual(
      found.data.map((row) => row.message_id),
      ['a\u0000b'],
    );
  });

  it('writes more than one statement holds (1000 rows) and answers each caller', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `bulk-${i}`);
    const outcomes = await Promise.all(
      [...ids, ...ids.slice(0, 100)].map((id) => store.insert(m(id, { from: '+1555' }))),
    );
    assert.equal(outcomes.filter((o) => o === 'created').length, 2500);
    assert.equal(outcomes.filter((o) => o === 'duplicate').length, 100);
    assert.equal((await store.list({ from: '+1555' }, { limit: 1, offset: 0 })).total, 2500);
  });

  it('waits for a lock shorter than the timeout, then commits', async () => {
    const lock = await holdTableLock(url, 500);
    const started = Date.now();
    assert.equal(await store.insert(m('after-short-lock')), 'created');
    const waited = Date.now() - started;
    assert.ok(waited >= 300, `the insert waited for the lock (${waited} ms)`);
    await lock.done;
  });

  it('gives up after the timeout with StoreUnavailableError, then recovers', async () => {
    const lock = await holdTableLock(url, 3000);
    const started = Date.now();
    await assert.rejects(store.insert(m('during-long-lock')), StoreUnavailableError);
    const waited = Date.now() - started;
    assert.ok(waited >= 900 && waited < 2900, `gave up after ${waited} ms (timeout 1000 ms)`);
    await lock.done;
    assert.equal(await store.insert(m('during-long-lock')), 'created');
  });

  it('reports a missing migration in check()', async () => {
    await withClient(url, (client) => client.query(`DELETE FROM ${schema}.schema_migrations`));
    assert.deepEqual(await store.check(), {
      database: 'ok',
      schema: `at version 0 of ${MIGRATIONS.length}`,
    });
    await withClient(url, (client) =>
      client.query(
        `INSERT INTO ${schema}.schema_migrations (version, name)
         SELECT v, 'x' FROM generate_series(1, ${MIGRATIONS.length}) AS v`,
      ),
    );
    assert.deepEqual(await store.check(), { database: 'ok', schema: 'ok' });
  });
});

describe('PostgresStore migrations', { skip: POSTGRES_SKIP }, () => {
  it('four stores starting at once on an empty database apply each version once', async () => {
    const { url } = await createTestDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => open(url)));
    try {
      for (const store of stores) {
        assert.deepEqual(await store.check(), { database: 'ok', schema: 'ok' });
      }
      const versions = await withClient(url, (client) =>
        client.query('SELECT version, name FROM schema_migrations ORDER BY version'),
      );
      assert.deepEqual(versions.rows, MIGRATIONS);
      // one shared table: what one writes, the others read
      await Promise.all(stores.map((store, i) => store.insert(m(`from-${i}`))));
      for (const store of stores) assert.equal((await store.stats()).total_messages, 4);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('a start that waits for another migration still opens, then becomes ready', async () => {
    const { url } = await createTestDatabase();
    // another process migrating: it holds the lock every migration takes first
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(7263011952014)');
    let store: Store | undefined;
    try {
      const opening = Date.now();
      store = await open(url, 500);
      const openMs = Date.now() - opening;
      assert.ok(openMs < 1500, `opened after ${openMs} ms, not after the migration`);
      assert.deepEqual(await store.check(), {
        database: 'ok',
        schema: `at version 0 of ${MIGRATIONS.length}`,
      });
      await assert.rejects(store.insert(m('too-early')), StoreUnavailableError);
      await holder.query('SELECT pg_advisory_unlock(7263011952014)');
      const waiting = Date.now();
      while ((await store.check()).schema !== 'ok') {
        assert.ok(Date.now() - waiting < 5000, 'ready within 5 s of the lock being released');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(await store.insert(m('in-time')), 'created');
    } finally {
      await holder.end();
      await store?.close();
    }
  });

  it('a later start applies nothing and is ready at once', async () => {
    const { url } = await freshSchema();
    const first = await open(url);
    await first.insert(m('kept'));
    await first.close();
    const second = await open(url);
    try {
      assert.deepEqual(await second.check(), { database: 'ok', schema: 'ok' });
      assert.equal((await second.list({}, everything)).total, 1);
    } finally {
      await second.close();
    }
  });
});
