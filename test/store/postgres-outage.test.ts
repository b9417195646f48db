import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { readMigrations } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open.js';
import {
  dropTestDatabasesAfterwards,
  freshSchema,
  message,
  POSTGRES_SKIP,
  postWebhook,
  type StoreKind,
  TEST_DATABASE_URL,
  testApp,
  withClient,
  within,
} from '../helpers.js';

/**
 * PostgreSQL going away and coming back, seen at the HTTP edge. The store talks to the server
 * through a TCP proxy that the tests close, reopen or stall.
 */

/** Forwards 127.0.0.1:<port> to the PostgreSQL server; can refuse, drop or stall connections. */
class TcpProxy {
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private stalled = false;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens (again) on the same port as before, or on a free one the first time. */
  async listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every open connection: the database is gone. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.dropConnections();
    if (server !== null) await new Promise((resolve) => server.close(resolve));
  }

  /** Connections stay open, but nothing goes through any more: the database hangs. */
  stall(): void {
    this.stalled = true;
  }

  /** Forwards again; connections that were stalled are cut (their protocol state is lost). */
  resume(): void {
    this.stalled = false;
    this.dropConnections();
  }

  private dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.stalled) return;
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    client.on('data', (chunk) => {
      if (!this.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.stalled) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }
}

function target(): { host: string; port: number } {
  const url = new URL(TEST_DATABASE_URL ?? '');
  return { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
}

/** `url` going through 127.0.0.1:<port>, with extra query parameters. */
function through(url: string, port: number, params: Record<string, string> = {}): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  for (const [name, value] of Object.entries(params)) parsed.searchParams.set(name, value);
  return parsed.toString();
}

function postgresAt(url: string, timeoutMs: number): StoreKind {
  return {
    name: 'postgres',
    async open() {
      const store = await openStore({ kind: 'postgres', url, poolSize: 4, timeoutMs });
      return { store, cleanup: () => store.close() };
    },
  };
}

/** Polls until `ready` holds; returns how long that took. */
async function waitFor(what: string, ready: () => Promise<boolean>, ms = 10_000): Promise<number> {
  const started = Date.now();
  while (!(await ready())) {
    if (Date.now() - started > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - started;
}

async function isReady(app: FastifyInstance): Promise<boolean> {
  return (await app.inject('/health/ready')).statusCode === 200;
}

async function storedIds(app: FastifyInstance): Promise<string[]> {
  const response = await app.inject('/messages?limit=100');
  assert.equal(response.statusCode, 200, response.body);
  return response.json().data.map((m: { message_id: string }) => m.message_id);
}

/** Asserts the answers of a service whose database is out: 503s with JSON, live 200. */
async function assertOutage(app: FastifyInstance, id: string): Promise<void> {
  const webhook = await postWebhook(app, message({ message_id: id }));
  assert.equal(webhook.statusCode, 503, webhook.body);
  assert.equal(typeof webhook.json().detail, 'string');
  assert.equal(webhook.headers['retry-after'], '1');
  for (const url of ['/messages', '/stats']) {
    const response = await app.inject(url);
    assert.equal(response.statusCode, 503, `${url}: ${response.body}`);
    assert.equal(typeof response.json().detail, 'string');
  }
  const ready = await app.inject('/health/ready');
  assert.equal(ready.statusCode, 503);
  assert.equal(ready.json().status, 'unavailable');
  assert.match(ready.json().checks.database, /^no answer: /);
  assert.equal(ready.json().checks.secret, 'ok');
  const live = await app.inject('/health/live');
  assert.equal(live.statusCode, 200);
  assert.deepEqual(live.json(), { status: 'ok' });
}

dropTestDatabasesAfterwards();

describe('PostgreSQL outages at the HTTP edge', { skip: POSTGRES_SKIP }, () => {
  it('database gone: 503s, live 200, nothing stored; back: ready and storing by itself', async (t) => {
    const proxy = new TcpProxy(target());
    await proxy.listen();
    const { url } = await freshSchema();
    const app = await testApp({ kind: postgresAt(through(url, proxy.port), 2000) });
    try {
      assert.equal((await postWebhook(app.app, message({ message_id: 'before' }))).statusCode, 200);
      await proxy.close();
      const cut = Date.now();
      await assertOutage(app.app, 'during');
      const outageMs = Date.now() - cut;

      await proxy.listen();
      const recoveredMs = await waitFor('ready after the database returned', () =>
        isReady(app.app),
      );
      assert.deepEqual(await storedIds(app.app), ['before'], 'the refused message was not stored');
      assert.equal((await postWebhook(app.app, message({ message_id: 'during' }))).statusCode, 200);
      assert.equal((await postWebhook(app.app, message({ message_id: 'during' }))).statusCode, 200);
      assert.deepEqual(await storedIds(app.app), ['before', 'during']);
      const webhookLines = app.logs.requests().filter((line) => line.path === '/webhook');
      assert.deepEqual(
        webhookLines.map((line) => line.result),
        ['created', 'unavailable', 'created', 'duplicate'],
      );
      t.diagnostic(`outage answers (webhook, messages, stats, ready, live) took ${outageMs} ms`);
      t.diagnostic(`ready again ${recoveredMs} ms after the database returned`);
    } finally {
      await app.close();
      await proxy.close();
    }
  });

  it('database hanging: 503 within about the timeout, live answers at once', async (t) => {
    const proxy = new TcpProxy(target());
    await proxy.listen();
    const { url } = await freshSchema();
    const timeoutMs = 1000;
    const app = await testApp({ kind: postgresAt(through(url, proxy.port), timeoutMs) });
    try {
      assert.equal((await postWebhook(app.app, message({ message_id: 'before' }))).statusCode, 200);
      proxy.stall();
      const started = performance.now();
      let settled = 0;
      const pending = [
        postWebhook(app.app, message({ message_id: 'stuck' })),
        app.app.inject('/stats'),
        app.app.inject('/messages'),
        app.app.inject('/health/ready'),
      ].map((answer) =>
        answer.finally(() => {
          settled++;
        }),
      );
      const live = await app.app.inject('/health/live');
      const liveMs = performance.now() - started;
      assert.equal(live.statusCode, 200);
      assert.equal(settled, 0, 'live answered before any request waiting on the database');
      const answers = await Promise.all(pending);
      const hungMs = performance.now() - started;
      assert.deepEqual(
        answers.map((r) => r.statusCode),
        [503, 503, 503, 503],
      );
      assert.match(answers[3]?.json().checks.database, /^no answer: /);
      // Answered while the database still hangs (it is resumed only below), within about the
      // timeout: the server-side timeouts cannot fire when nothing reaches the server, so the
      // connection timeout (1 s) or the client-side query timeout (1 s + 1 s) does. The bound
      // leaves a loaded 2-core machine 5 s of slack.
      assert.ok(
        hungMs < 2 * timeoutMs + 5000,
        `answered 503 after ${Math.round(hungMs)} ms (timeout ${timeoutMs} ms)`,
      );

      proxy.resume();
      const recoveredMs = await waitFor('ready after the database answered again', () =>
        isReady(app.app),
      );
      assert.equal((await postWebhook(app.app, message({ message_id: 'stuck' }))).statusCode, 200);
      assert.deepEqual(await storedIds(app.app), ['before', 'stuck']);
      t.diagnostic(
        `live in ${Math.round(liveMs)} ms; 503s after ${Math.round(hungMs)} ms; ready ${recoveredMs} ms later`,
      );
    } finally {
      await app.close();
      await proxy.close();
    }
  });

  it('connections terminated by the server: the next requests recover, never a 500', async (t) => {
    const { url } = await freshSchema();
    const name = `outage_${randomBytes(4).toString('hex')}`;
    const app = await testApp({ kind: postgresAt(`${url}&application_name=${name}`, 2000) });
    const terminate = async () => {
      const { rows } = await withClient(TEST_DATABASE_URL ?? '', (client) =>
        client.query(
          'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [name],
        ),
      );
      return rows[0].n as number;
    };
    try {
      // several connections in the pool
      const warm = await Promise.all(
        Array.from({ length: 8 }, (_, i) => postWebhook(app.app, message({ message_id: `w${i}` }))),
      );
      assert.deepEqual(new Set(warm.map((r) => r.statusCode)), new Set([200]));
      const acknowledged = new Set(Array.from({ length: 8 }, (_, i) => `w${i}`));
      const statuses: number[][] = [];
      for (let round = 0; round < 3; round++) {
        // the pool holds connections again (the previous round's may all be gone)
        await Promise.all(Array.from({ length: 4 }, () => app.app.inject('/stats')));
        const killed = await terminate();
        assert.ok(killed >= 1, `round ${round}: terminated ${killed} connections`);
        const answers: number[] = [];
        for (let i = 0; i < 6; i++) {
          const id = `r${round}-${i}`;
          const webhook = await postWebhook(app.app, message({ message_id: id }));
          if (webhook.statusCode === 200) acknowledged.add(id);
          answers.push(webhook.statusCode, (await app.app.inject('/stats')).statusCode);
        }
        // and while statements are in flight
        const inFlight = Array.from({ length: 10 }, (_, i) =>
          postWebhook(app.app, message({ message_id: `f${round}-${i}` })),
        );
        await terminate();
        for (const [i, webhook] of (await Promise.all(inFlight)).entries()) {
          if (webhook.statusCode === 200) acknowledged.add(`f${round}-${i}`);
          answers.push(webhook.statusCode);
        }
        statuses.push(answers);
      }
      for (const [round, answers] of statuses.entries()) {
        assert.ok(
          answers.every((s) => s === 200 || s === 503),
          `round ${round}: only 200 and 503, got ${answers}`,
        );
        assert.ok(
          answers.slice(0, 12).filter((s) => s === 503).length <= 1,
          `round ${round}: at most one 503 after the termination, got ${answers}`,
        );
      }
      const stored = new Set(await storedIds(app.app));
      for (const id of acknowledged) assert.ok(stored.has(id), `acknowledged ${id} is stored`);
      const all = statuses.flat();
      t.diagnostic(
        `${all.length} answers after 6 terminations: ${all.filter((s) => s === 200).length} × 200, ${all.filter((s) => s === 503).length} × 503`,
      );
    } finally {
      await app.close();
    }
  });

  it('database unreachable at start: starts anyway, 503s, then ready by itself', async (t) => {
    const proxy = new TcpProxy(target());
    await proxy.listen();
    await proxy.close(); // a port nothing listens on, for now
    const { url, schema } = await freshSchema();
    const opening = Date.now();
    // nothing listens until proxy.listen() below: opening at all is not waiting for the database
    const app = await within(
      testApp({ kind: postgresAt(through(url, proxy.port), 1000) }),
      30_000,
      'opened without a database',
    );
    try {
      const openMs = Date.now() - opening;
      await assertOutage(app.app, 'early');
      const ready = (await app.app.inject('/health/ready')).json();
      assert.match(ready.checks.database, /ECONNREFUSED/);
      assert.equal(ready.checks.schema, 'unknown');

      await proxy.listen();
      const recoveredMs = await waitFor('ready after the database appeared', () =>
        isReady(app.app),
      );
      assert.equal((await postWebhook(app.app, message({ message_id: 'early' }))).statusCode, 200);
      assert.deepEqual(await storedIds(app.app), ['early']);
      const versions = await withClient(url, (client) =>
        client.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`),
      );
      assert.deepEqual(
        versions.rows,
        readMigrations('postgres').map(({ version }) => ({ version })),
      );
      t.diagnostic(`opened in ${openMs} ms; ready ${recoveredMs} ms after the database appeared`);
    } finally {
      await app.close();
      await proxy.close();
    }
  });
});
