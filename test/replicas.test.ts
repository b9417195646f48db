import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sign } from '../src/signature.js';
import { readMigrations } from '../src/store/migrations.js';
import { SERVER, type ServerProcess, startServer, stopServer } from './harness/server.js';
import {
  createTestDatabase,
  databaseUrl,
  dropTestDatabasesAfterwards,
  message,
  POSTGRES_SKIP,
  TEST_DATABASE_URL,
  withClient,
} from './helpers.js';

/** Every migration, as schema_migrations lists them once applied. */
const MIGRATIONS = readMigrations('postgres').map(({ version, name }) => ({ version, name }));

/**
 * Scale-out: several copies of the built server (`node dist/server.js`) sharing one PostgreSQL
 * database, as behind a load balancer. Whatever process a delivery reaches, a message_id is
 * stored once and counted 'created' once, and every process reports the same data.
 */

const SECRET = 'replica-secret';

interface StatsBody {
  total_messages: number;
  senders_count: number;
  first_message_ts: string | null;
  last_message_ts: string | null;
}

type Replica = ServerProcess;

function startReplica(databaseUrl: string): Promise<Replica> {
  return startServer({
    WEBHOOK_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '5',
  });
}

async function stopReplica(replica: Replica): Promise<number | null> {
  return (await stopServer(replica, 'SIGTERM')).code;
}

function post(base: string, body: string): Promise<Response> {
  return fetch(`${base}/webhook`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-signature': sign(SECRET, body) },
  });
}

/** webhook_requests_total{result} as a process reports it on /metrics. */
async function webhookCount(base: string, result: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = new RegExp(`^webhook_requests_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  assert.ok(match !== null, `/metrics of ${base} has webhook_requests_total{result="${result}"}`);
  return Number(match[1]);
}

async function rowCount(url: string): Promise<number> {
  const { rows } = await withClient(url, (client) =>
    client.query('SELECT count(*)::int AS n FROM messages'),
  );
  return rows[0].n;
}

async function waitReady(base: string, ms = 10_000): Promise<number> {
  const started = Date.now();
  while ((await fetch(`${base}/health/ready`)).status !== 200) {
    if (Date.now() - started > ms) assert.fail(`${base} not ready within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - started;
}

dropTestDatabasesAfterwards();

describe('two server processes sharing one PostgreSQL database', { skip: POSTGRES_SKIP }, () => {
  let url: string;
  let replicas: Replica[] = [];
  before(() => {
    assert.ok(
      existsSync(SERVER),
      'dist/server.js is missing: run `npm run build` first (npm test does)',
    );
  });
  after(async () => {
    for (const replica of replicas) replica.child.kill('SIGKILL');
  });

  it('start together on an empty database: both ready, each migration applied once', async () => {
    ({ url } = await createTestDatabase());
    replicas = await Promise.all([startReplica(url), startReplica(url)]);
    for (const replica of replicas) {
      const ready = await fetch(`${replica.base}/health/ready`);
      assert.equal(ready.status, 200, await ready.text());
    }
    const { rows } = await withClient(url, (client) =>
      client.query('SELECT version, name FROM schema_migrations ORDER BY version'),
    );
    assert.deepEqual(rows, MIGRATIONS);
    // one of them applied the migration, the other waited for it and found it applied
    const applied = replicas.map((replica) =>
      JSON.stringify(replica.lines.find((l) => 'applied' in l)?.applied),
    );
    assert.deepEqual(applied.sort(), [JSON.stringify(MIGRATIONS.map((m) => m.version)), '[]']);
  });

  it('50 identical webhooks split across both: all 200, one row, created counted once', async (t) => {
    const body = JSON.stringify(message({ message_id: 'same-everywhere' }));
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post((replicas[i % 2] as Replica).base, body)),
    );
    assert.deepEqual(
      responses.map((r) => r.status),
      Array(50).fill(200),
    );
    assert.equal(await rowCount(url), 1);
    const counts = await Promise.all(
      replicas.map(async ({ base }) => [
        await webhookCount(base, 'created'),
        await webhookCount(base, 'duplicate'),
      ]),
    );
    const sum = (i: number) => counts.reduce((total, pair) => total + (pair[i] ?? 0), 0);
    assert.equal(sum(0), 1, 'exactly one delivery counted as created');
    assert.equal(sum(1), 49);
    t.diagnostic(`created/duplicate per process: ${counts.map((c) => c.join('/')).join(', ')}`);
  });

  it('500 distinct messages split across both: all stored, the same stats from either', async (t) => {
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 500 }, (_, i) => {
        const body = JSON.stringify(
          message({
            message_id: `spread-${i}`,
            from: `+1555000${String(i % 7).padStart(4, '0')}`,
            ts: `2025-02-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
          }),
        );
        return post((replicas[i % 2] as Replica).base, body);
      }),
    );
    const elapsed = Date.now() - started;
    assert.deepEqual(
      responses.map((r) => r.status),
      Array(500).fill(200),
    );
    assert.equal(await rowCount(url), 501);
    const [a, b] = await Promise.all(
      replicas.map(async ({ base }) => (await (await fetch(`${base}/stats`)).json()) as StatsBody),
    );
    assert.deepEqual(a, b, 'both processes report the same stats');
    assert.equal(a?.total_messages, 501);
    assert.equal(a?.senders_count, 8);
    assert.equal(a?.first_message_ts, '2025-01-15T10:00:00Z');
    assert.equal(a?.last_message_ts, '2025-02-01T00:08:19Z');
    const pages = await Promise.all(
      replicas.map(
        async ({ base }) =>
          (await (await fetch(`${base}/messages?limit=100`)).json()) as { total: number },
      ),
    );
    assert.deepEqual(pages[0], pages[1], 'both processes list the same page');
    assert.equal(pages[0]?.total, 501);
    let created = 0;
    for (const { base } of replicas) created += await webhookCount(base, 'created');
    assert.equal(created, 501);
    t.diagnostic(`500 webhooks over two processes in ${elapsed} ms`);
  });

  it('stop on SIGTERM with exit code 0, every line JSON', async () => {
    const stopping = replicas;
    replicas = [];
    for (const replica of stopping) {
      assert.equal(await stopReplica(replica), 0);
      assert.deepEqual(replica.notJson, [], 'every line is one JSON object');
      for (const line of replica.lines) {
        assert.ok(
          ['DEBUG', 'INFO', 'WARNING', 'ERROR'].includes(String(line.level)),
          `${line.level}`,
        );
      }
    }
  });
});

describe('a server process started before its database exists', { skip: POSTGRES_SKIP }, () => {
  let replica: Replica | undefined;
  let name: string;
  after(async () => {
    replica?.child.kill('SIGKILL');
    await withClient(TEST_DATABASE_URL ?? '', (client) =>
      client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    );
  });

  it('serves live and 503s, then becomes ready by itself once the database is created', async (t) => {
    name = `webhook_test_${randomBytes(8).toString('hex')}`;
    const url = databaseUrl(TEST_DATABASE_URL ?? '', name);
    replica = await startReplica(url);
    assert.equal((await fetch(`${replica.base}/health/live`)).status, 200);
    const ready = await fetch(`${replica.base}/health/ready`);
    assert.equal(ready.status, 503);
    const { checks } = (await ready.json()) as { checks: { database: string } };
    assert.match(checks.database, /^no answer: 3D000/);
    const body = JSON.stringify(message({ message_id: 'waited' }));
    const refused = await post(replica.base, body);
    assert.equal(refused.status, 503);
    assert.equal(typeof ((await refused.json()) as { detail: unknown }).detail, 'string');

    await withClient(TEST_DATABASE_URL ?? '', (client) =>
      client.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`),
    );
    const readyMs = await waitReady(replica.base);
    assert.equal((await post(replica.base, body)).status, 200);
    assert.equal(await rowCount(url), 1);
    assert.equal(await stopReplica(replica), 0);
    const warnings = replica.lines.filter((l) => l.level === 'WARNING');
    assert.ok(
      warnings.some((l) => /retrying the migration/.test(String(l.msg))),
      'the process logged that it keeps retrying',
    );
    t.diagnostic(`ready ${readyMs} ms after the database was created`);
  });
});
