import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { holdWriteLock } from '../harness/sqlite-lock.js';
import {
  message,
  pausesUntil,
  postWebhook,
  sqliteAt,
  type TestApp,
  tempDir,
  testApp,
} from '../helpers.js';

/**
 * A file-backed SQLite store that cannot take writes, through the HTTP app: locked by another
 * process past the 5 s busy timeout, made read-only, out of space. Each time a webhook gets a 503
 * in the JSON envelope with Retry-After (never a 200, never a 500), nothing is stored, the
 * process keeps serving, and once the fault is gone the same webhook is stored exactly once.
 *
 * The read-only and out-of-space faults are real: the database and WAL files are made immutable
 * (chattr +i; the process runs as root, so permissions would not stop it), and the database lives
 * on a tiny tmpfs. Where the machine does not allow them, those tests are skipped, saying why.
 */

type Response = Awaited<ReturnType<typeof postWebhook>>;

/** Runs a command; returns its error message, or null when it succeeded. */
function run(command: string, args: string[]): string | null {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return null;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (error as Error).message;
  }
}

/** Asserts the answer a sender gets when the database cannot take the write. */
function assertUnavailable(response: Response, label: string): void {
  assert.equal(response.statusCode, 503, `${label}: ${response.statusCode} ${response.body}`);
  assert.match(String(response.headers['content-type']), /^application\/json/, label);
  assert.deepEqual(response.json(), { detail: 'database unavailable, retry later' }, label);
  assert.equal(response.headers['retry-after'], '1', label);
}

async function stored(t: TestApp): Promise<string[]> {
  const response = await t.app.inject('/messages?limit=100');
  assert.equal(response.statusCode, 200, `reads still work: ${response.body}`);
  return (response.json() as { data: { message_id: string }[] }).data.map((m) => m.message_id);
}

async function ready(t: TestApp): Promise<{ status: number; body: unknown }> {
  const response = await t.app.inject('/health/ready');
  return { status: response.statusCode, body: response.json() };
}

/** The webhook log lines: a 503 is logged at ERROR with result "unavailable". */
function assertLoggedUnavailable(t: TestApp): void {
  const lines = t.logs.requests().filter((line) => line.status === 503);
  assert.ok(lines.length > 0, 'the 503 has its log line');
  for (const line of lines) {
    assert.equal(line.level, 'ERROR');
    assert.equal(line.result, 'unavailable');
  }
}

describe('SQLite locked by another process past the 5 s busy timeout', () => {
  const dir = tempDir();
  const path = join(dir.path, 'locked.db');
  let t: TestApp;
  before(async () => {
    t = await testApp({ kind: sqliteAt(path) });
  });
  after(async () => {
    await t?.close();
    dir.remove();
  });

  it('answers 503 with Retry-After after 5 s, stays live meanwhile, and recovers', async (tc) => {
    const body = JSON.stringify(message({ message_id: 'during-lock' }));
    // held until released below: the answer must come by itself, while the lock is still held
    const lock = await holdWriteLock(path, 60_000);
    try {
      const started = performance.now();
      let settled = false;
      const delivery = postWebhook(t.app, body).finally(() => {
        settled = true;
      });
      // while the write waits in the writer thread, the process answers everything else
      const meanwhile: { readiness?: { status: number; body: unknown } } = {};
      const live = await pausesUntil(
        () => settled,
        async () => {
          const response = await t.app.inject('/health/live');
          assert.equal(response.statusCode, 200, 'live while the write waits');
          meanwhile.readiness ??= await ready(t);
        },
        200,
      );
      const response = await delivery;
      const waited = performance.now() - started;
      tc.diagnostic(
        `503 after ${Math.round(waited)} ms; ${live.runs} liveness probes answered meanwhile, ` +
          `longest pause ${Math.round(live.longestPauseMs)} ms; readiness meanwhile ${meanwhile.readiness?.status}`,
      );
      assertUnavailable(response, 'locked');
      assert.equal(lock.held(), true, 'answered while the lock was still held');
      // The 5 s is the behaviour: never sooner. Later only by what a loaded 2-core machine adds
      // (the writer thread's sleeps and the answer's way back run late), so 5 s of slack: still
      // far from waiting for the lock, which is held for 60 s.
      assert.ok(waited >= 4900 && waited < 10_000, `gave up after ${Math.round(waited)} ms`);
      // live throughout: probes answered while the write waited, and never a stop as long as half
      // the 5 s wait (a process waiting for the lock itself would stop answering for all of it)
      assert.ok(live.runs > 0, 'no liveness probe answered while the write waited');
      assert.ok(
        live.longestPauseMs < 2500,
        `liveness went unanswered for ${Math.round(live.longestPauseMs)} ms while the write waited`,
      );
      // a lock on writes leaves reads alone (WAL): the database still serves, so it stays ready
      assert.deepEqual(meanwhile.readiness, { status: 200, body: { status: 'ok' } });
      assert.deepEqual(await stored(t), [], 'nothing stored');
      assertLoggedUnavailable(t);
    } finally {
      await lock.release();
    }
    const retried = await postWebhook(t.app, body);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal((await postWebhook(t.app, body)).statusCode, 200, 'a repeat is acknowledged');
    assert.deepEqual(await stored(t), ['during-lock'], 'stored once');
    assert.equal((await t.app.inject('/stats')).json().total_messages, 1);
  });
});

describe('SQLite files made read-only (chattr +i on the database and its WAL)', () => {
  const dir = tempDir();
  const path = join(dir.path, 'readonly.db');
  const files = [path, `${path}-wal`];
  let t: TestApp;
  let unsupported: string | null = null;
  before(async () => {
    const probe = join(dir.path, 'probe');
    writeFileSync(probe, '');
    unsupported = run('chattr', ['+i', probe]);
    run('chattr', ['-i', probe]);
    t = await testApp({ kind: sqliteAt(path) });
  });
  after(async () => {
    for (const file of files) run('chattr', ['-i', file]);
    await t?.close();
    dir.remove();
  });

  it('answers 503 while the files are immutable, serves reads, and recovers', async (tc) => {
    if (unsupported !== null) return tc.skip(`chattr +i is not possible here: ${unsupported}`);
    // the -shm file stays writable: it is memory-mapped, and a write to a mapped page of an
    // immutable file kills the process with SIGBUS (a hazard of the fault, not of the service)
    assert.equal((await postWebhook(t.app, message({ message_id: 'before' }))).statusCode, 200);
    for (const file of files) assert.equal(run('chattr', ['+i', file]), null, `chattr +i ${file}`);
    try {
      const body = JSON.stringify(message({ message_id: 'while-read-only' }));
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await postWebhook(t.app, body));
      tc.diagnostic(`answers while read-only: ${answers.map((a) => a.statusCode).join(', ')}`);
      for (const answer of answers) assertUnavailable(answer, 'read-only');
      assert.deepEqual(await stored(t), ['before'], 'reads still work, nothing new stored');
      const readiness = await ready(t);
      tc.diagnostic(
        `readiness while read-only: ${readiness.status} ${JSON.stringify(readiness.body)}`,
      );
      assert.deepEqual(readiness, { status: 200, body: { status: 'ok' } }, 'reads are served');
      assertLoggedUnavailable(t);
    } finally {
      for (const file of files) run('chattr', ['-i', file]);
    }
    const body = JSON.stringify(message({ message_id: 'while-read-only' }));
    const retried = await postWebhook(t.app, body);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.deepEqual(await stored(t), ['before', 'while-read-only'], 'stored once');
    assert.equal((await t.app.inject('/stats')).json().total_messages, 2);
  });
});

describe('SQLite out of space (a 1 MB tmpfs)', () => {
  const dir = tempDir();
  const mountPoint = join(dir.path, 'small');
  const path = join(mountPoint, 'full.db');
  let t: TestApp | null = null;
  let unsupported: string | null = null;
  before(async () => {
    mkdirSync(mountPoint);
    unsupported = run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    if (unsupported === null) t = await testApp({ kind: sqliteAt(path) });
  });
  after(async () => {
    await t?.close();
    if (unsupported === null) run('umount', [mountPoint]);
    dir.remove();
  });

  it('answers 503 once the disk is full, serves reads, and recovers when there is room', async (tc) => {
    if (unsupported !== null || t === null) {
      return tc.skip(`mounting a tmpfs is not possible here: ${unsupported}`);
    }
    const app = t;
    const text = 'x'.repeat(4000);
    const acknowledged: string[] = [];
    const refused: string[] = [];
    let full: { body: string; response: Response } | null = null;
    // batches of 10 until one fails, then one at a time until even a single message does not
    // fit (a failed batch is rolled back whole, which leaves room for a smaller one)
    let size = 10;
    for (let i = 0; i < 2000 && full === null; i += size) {
      const batch = Array.from({ length: size }, (_, j) => {
        const id = `fill-${i + j}`;
        return { id, body: JSON.stringify(message({ message_id: id, text })) };
      });
      const responses = await Promise.all(batch.map((b) => postWebhook(app.app, b.body)));
      responses.forEach((response, j) => {
        const sent = batch[j] as { id: string; body: string };
        if (response.statusCode === 200) acknowledged.push(sent.id);
        else {
          assertUnavailable(response, `${sent.id} on a full disk`);
          refused.push(sent.id);
          if (size === 1) full = { body: sent.body, response };
        }
      });
      if (refused.length > 0) size = 1;
    }
    assert.ok(full !== null, `no 503 after ${acknowledged.length} messages of 4000 characters`);
    const failed = full as { body: string; response: Response };
    tc.diagnostic(
      `${acknowledged.length} messages acknowledged before the disk was full; ` +
        `${refused.length} answered 503`,
    );
    assertUnavailable(await postWebhook(app.app, failed.body), 'still full');
    const listed = await app.app.inject('/messages?limit=1');
    assert.equal(listed.statusCode, 200, 'reads still work');
    assert.equal(listed.json().total, acknowledged.length, 'exactly the acknowledged are stored');
    const readiness = await ready(app);
    tc.diagnostic(`readiness while full: ${readiness.status} ${JSON.stringify(readiness.body)}`);
    assert.deepEqual(readiness, { status: 200, body: { status: 'ok' } }, 'reads are served');
    assertLoggedUnavailable(app);

    assert.equal(run('mount', ['-o', 'remount,size=64m', mountPoint]), null, 'made room');
    const retried = await postWebhook(app.app, failed.body);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal((await postWebhook(app.app, failed.body)).statusCode, 200, 'a repeat');
    const after = await app.app.inject(`/messages?limit=1`);
    assert.equal(after.json().total, acknowledged.length + 1, 'the retried message stored once');
    const stats = (await app.app.inject('/stats')).json();
    assert.equal(stats.total_messages, acknowledged.length + 1);
  });
});
