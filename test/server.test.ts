import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sign } from '../src/signature.js';
import { ROOT, SERVER, type ServerProcess, startServer } from './harness/server.js';
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
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);
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
