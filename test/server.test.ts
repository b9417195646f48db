import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sign } from '../src/signature.js';
import {
  freePort,
  ROOT,
  SERVER,
  type ServerProcess,
  startServer,
  stopServer,
} from './harness/server.js';
import { message, tempDir } from './helpers.js';

/**
 * End to end: the built server (`node dist/server.js`, the production start command) on a free
 * port and a temporary database, spoken to over a real socket.
 */

const SECRET = 'e2e-secret';

interface PageBody {
  data: { message_id: string; text: string | null }[];
  total: number;
}

async function post(base: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/webhook`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-signature': sign(SECRET, body), ...headers },
  });
}

/** Sends `chunks` with Transfer-Encoding: chunked (no Content-Length). */
function postChunked(base: string, chunks: string[], signature: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': signature,
        'transfer-encoding': 'chunked',
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** Writes raw bytes to the server and returns everything it answers before closing. */
function raw(base: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('the built server over a real socket', () => {
  const dir = tempDir();
  const env = {
    WEBHOOK_SECRET: SECRET,
    DATABASE_URL: `sqlite:///${join(dir.path, 'app.db')}`,
    MAX_BODY_BYTES: '4096',
  };
  let server: ServerProcess;

  before(async () => {
    assert.ok(
      existsSync(SERVER),
      'dist/server.js is missing: run `npm run build` first (npm test does)',
    );
    server = await startServer(env);
  });
  after(() => {
    server?.child.kill('SIGKILL');
    dir.remove();
  });

  it('answers health, stores a signed webhook and lists it', async () => {
    assert.equal((await fetch(`${server.base}/health/live`)).status, 200);
    assert.equal((await fetch(`${server.base}/health/ready`)).status, 200);
    const response = await post(
      server.base,
      JSON.stringify(message({ message_id: 'e2e-1', text: 'héllo 👋' })),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
    assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const listed = (await (
      await fetch(`${server.base}/messages?from=+919876543210`)
    ).json()) as PageBody;
    assert.equal(listed.total, 1);
    assert.equal(listed.data[0]?.text, 'héllo 👋');
  });

  it('rejects a bad signature with exactly {"detail": "invalid signature"}', async () => {
    const response = await post(server.base, JSON.stringify(message()), {
      'x-signature': 'ab'.repeat(32),
    });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { detail: 'invalid signature' });
  });

  it('counts chunked bodies against MAX_BODY_BYTES', async () => {
    const small = JSON.stringify(message({ message_id: 'chunked-ok' }));
    assert.equal(
      await postChunked(server.base, [small.slice(0, 10), small.slice(10)], sign(SECRET, small)),
      200,
    );
    const big = JSON.stringify(message({ message_id: 'chunked-big', text: 'x'.repeat(4000) }));
    const chunks = big.match(/[\s\S]{1,500}/g) ?? [];
    assert.equal(await postChunked(server.base, chunks, sign(SECRET, big)), 413);
  });

  it('answers malformed HTTP and oversized headers with the JSON envelope', async () => {
    const garbage = await raw(server.base, 'HELLO THERE\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    assert.match(garbage, /\{"detail":"malformed HTTP request"\}$/);
    const huge = await raw(
      server.base,
      `GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`,
    );
    assert.match(huge, /^HTTP\/1\.1 431 /);
    assert.equal((await fetch(`${server.base}/health/live`)).status, 200);
  });

  it('keeps an acknowledged message through kill -9', async () => {
    const body = JSON.stringify(message({ message_id: 'survivor' }));
    assert.equal((await post(server.base, body)).status, 200);
    server.child.kill('SIGKILL');
    await server.exited;
    server = await startServer(env);
    const listed = (await (await fetch(`${server.base}/messages?limit=100`)).json()) as PageBody;
    assert.ok(
      listed.data.some((m) => m.message_id === 'survivor'),
      'the acknowledged message is stored after the crash',
    );
  });

  it('stops on SIGTERM with exit code 0, and every line it printed was JSON', async () => {
    await fetch(`${server.base}/stats`);
    assert.equal((await stopServer(server, 'SIGTERM')).code, 0);
    assert.deepEqual(server.notJson, [], 'every line is one JSON object');
    assert.ok(server.lines.length >= 3, `only ${server.lines.length} lines`);
    for (const line of server.lines) {
      assert.match(String(line.ts), /Z$/);
      assert.ok(
        ['DEBUG', 'INFO', 'WARNING', 'ERROR'].includes(String(line.level)),
        `${line.level}`,
      );
    }
    assert.equal(server.lines.at(-1)?.msg, 'stopped');
  });
});

describe('the built server with a bad configuration', () => {
  it('exits 1 with one JSON line naming the variable', async () => {
    const child = spawn(process.execPath, [SERVER], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 1, out);
    const line = JSON.parse(lines[0] as string);
    assert.equal(line.level, 'ERROR');
    assert.equal(line.variable, 'PORT');
    assert.match(line.msg, /PORT/);
  });
});

describe('LOG_LEVEL on the built server', () => {
  const dir = tempDir();
  after(() => dir.remove());

  /** Runs the built server at `env`, makes `requests`, stops it, and returns what it printed. */
  async function printed(
    env: Record<string, string>,
    requests: (base: string) => Promise<void>,
  ): Promise<Record<string, unknown>[]> {
    // LOG_LEVEL=ERROR and WARNING hide the `started` line: started once /health/live answers
    const server = await startServer(
      { DATABASE_URL: `sqlite:///${join(dir.path, `${env.LOG_LEVEL}.db`)}`, ...env },
      { port: await freePort() },
    );
    try {
      await requests(server.base);
    } finally {
      assert.equal((await stopServer(server, 'SIGTERM')).code, 0, 'stopped with exit code 0');
    }
    assert.deepEqual(server.notJson, [], 'every line is one JSON object');
    return server.lines;
  }

  it('ERROR hides the start-up, request and shutdown lines below ERROR', async () => {
    const lines = await printed({ WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'ERROR' }, async (base) => {
      assert.equal((await post(base, JSON.stringify(message()))).status, 200);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      const refused = await post(base, JSON.stringify(message()), { 'x-signature': '00' });
      assert.equal(refused.status, 401);
    });
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg, line.status]),
      [['ERROR', 'request', 401]],
    );
  });

  it('WARNING shows the missing secret as WARNING, and hides INFO', async () => {
    const lines = await printed({ LOG_LEVEL: 'WARNING' }, async (base) => {
      assert.equal((await fetch(`${base}/health/live`)).status, 200);
      assert.equal((await post(base, JSON.stringify(message()))).status, 503);
    });
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg, line.status]),
      [
        [
          'WARNING',
          'WEBHOOK_SECRET is not set: webhooks are refused with 503 and /health/ready is 503',
          undefined,
        ],
        ['ERROR', 'request', 503],
      ],
    );
  });

  it('INFO, the default, shows the start-up and shutdown lines', async () => {
    const lines = await printed({ WEBHOOK_SECRET: SECRET }, async (base) => {
      assert.equal((await fetch(`${base}/health/live`)).status, 200);
    });
    const messages = lines.map((line) => line.msg);
    assert.ok(messages.includes('started'), messages.join(', '));
    assert.deepEqual(messages.slice(-2), [
      'shutting down: finishing requests in flight',
      'stopped',
    ]);
    assert.ok(
      lines.every((line) => line.level === 'INFO'),
      lines.map((line) => line.level).join(', '),
    );
  });
});

describe('two built servers on one SQLite file', () => {
  const dir = tempDir();
  const env = { WEBHOOK_SECRET: SECRET, DATABASE_URL: `sqlite:///${join(dir.path, 'shared.db')}` };
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    dir.remove();
  });

  /** webhook_requests_total{result} as a process reports it on /metrics. */
  async function webhookCount(base: string, result: string): Promise<number> {
    const text = await (await fetch(`${base}/metrics`)).text();
    const pattern = new RegExp(`^webhook_requests_total\\{result="${result}"\\} (\\d+)$`, 'm');
    const match = pattern.exec(text);
    assert.ok(match !== null, `/metrics of ${base} has webhook_requests_total{result="${result}"}`);
    return Number(match[1]);
  }

  it('race one message_id: all 200, one row, created counted once', async (t) => {
    servers.push(await startServer(env), await startServer(env));
    for (let round = 0; round < 5; round++) {
      const body = JSON.stringify(message({ message_id: `raced-${round}` }));
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) => post((servers[i % 2] as ServerProcess).base, body)),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(20).fill(200),
        `round ${round}`,
      );
    }
    const counts = await Promise.all(
      servers.map(async ({ base }) => [
        await webhookCount(base, 'created'),
        await webhookCount(base, 'duplicate'),
      ]),
    );
    t.diagnostic(`created/duplicate per process: ${counts.map((c) => c.join('/')).join(', ')}`);
    const sum = (i: number) => counts.reduce((total, pair) => total + (pair[i] ?? 0), 0);
    assert.equal(sum(0), 5, 'each message_id counted as created exactly once');
    assert.equal(sum(1), 5 * 19);
    for (const server of servers.splice(0)) {
      assert.equal((await stopServer(server, 'SIGTERM')).code, 0);
    }
    const db = new Database(join(dir.path, 'shared.db'), { readonly: true });
    try {
      const rows = db
        .prepare('SELECT message_id, count(*) AS n FROM messages GROUP BY message_id ORDER BY 1')
        .all();
      assert.deepEqual(
        rows,
        [0, 1, 2, 3, 4].map((round) => ({ message_id: `raced-${round}`, n: 1 })),
        'one row per message_id',
      );
    } finally {
      db.close();
    }
  });
});
