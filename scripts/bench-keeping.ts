/**
 * npm run bench:keeping [-- options]: what keeping data costs on SQLite, in one run of the
 * built service on one database:
 *
 *   - export: rows/s of GET /messages/export (NDJSON and CSV) over every message, and how much
 *     the service's RSS grew while it streamed them;
 *   - backup: how long `webhook-receiver backup` takes, the service running;
 *   - ingest p99 at a steady rate without a sweep, then during a retention sweep of every
 *     seeded message (RETENTION_DAYS), and the sweep's rate in rows/s.
 *
 *   --messages N   messages seeded, all received long ago (default 1000000)
 *   --rate R       webhooks per second for the ingest latency (default 300)
 *   --seconds S    how long the ingest without a sweep is measured (default 15)
 *   --cache DIR    keep the seeded database in DIR and reuse it (default: a temporary directory);
 *                  a reused one is migrated first, and its search index completed
 *   --sweep-seconds S  measure ingest during the first S seconds of the sweep only, then stop
 *                  (default: the whole sweep)
 *   --only LIST    some of export,backup,ingest (ingest: with and without a sweep); default all
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { generator } from '../src/cli/generate.js';
import { sign } from '../src/signature.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { freePort, type ServerProcess, startServer, stopServer } from '../test/harness/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'bench-secret';
const { values: options } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '15' },
    cache: { type: 'string' },
    only: { type: 'string', default: 'export,backup,ingest' },
    'sweep-seconds': { type: 'string' },
  },
});
const PHASES = new Set(options.only.split(','));
const MESSAGES = Number(options.messages);
const RATE = Number(options.rate);
const SECONDS = Number(options.seconds);
const SWEEP_SECONDS =
  options['sweep-seconds'] === undefined ? undefined : Number(options['sweep-seconds']);

const dir = options.cache ?? mkdtempSync(join(tmpdir(), 'bench-keeping-'));
mkdirSync(dir, { recursive: true });
const seeded = join(dir, `seeded-${MESSAGES}.db`);
const work = join(dir, 'work.db');

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Seeds MESSAGES generated messages, received in 2020, and waits for the search index. */
async function seed(): Promise<void> {
  const started = performance.now();
  const reused = existsSync(seeded);
  const store = new SqliteStore({ path: seeded });
  if (reused) {
    // a database seeded by an earlier version: migrated by the open, its index completed here
    while (store.searchBacklog() > 0) await sleep(200);
    await store.close();
    return print(`reusing ${seeded} (ready in ${seconds(started)} s)`);
  }
  const next = generator('keeping');
  for (let done = 0; done < MESSAGES; done += 10_000) {
    const size = Math.min(10_000, MESSAGES - done);
    await Promise.all(
      Array.from({ length: size }, () =>
        store.insert(next(), { received_at: '2020-01-01T00:00:00Z' }),
      ),
    );
  }
  while (store.searchBacklog() > 0) await sleep(200);
  await store.close();
  print(`seeded ${MESSAGES} messages (search index complete) in ${seconds(started)} s`);
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}

function rssKib(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return Number(match?.[1] ?? 0);
}

/** Streams the export, counting lines; returns rows/s and the RSS growth of the service. */
async function exportRun(server: ServerProcess, format: 'ndjson' | 'csv'): Promise<void> {
  const pid = server.child.pid as number;
  const before = rssKib(pid, 'VmRSS');
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssKib(pid, 'VmRSS'));
  }, 20);
  const started = performance.now();
  let lines = 0;
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    request(`${server.base}/messages/export?format=${format}`, (res) => {
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      });
      res.on('end', resolve);
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
  clearInterval(sampler);
  const elapsed = (performance.now() - started) / 1000;
  const rows = format === 'csv' ? lines - 1 : lines; // CSV: a header row; texts with CRLF count too
  print(
    `export ${format}: ${rows} lines, ${(bytes / 1e6).toFixed(0)} MB in ${elapsed.toFixed(1)} s = ${Math.round(rows / elapsed)} rows/s; ` +
      `service RSS ${Math.round(before / 1024)} MB before, peak ${Math.round(peak / 1024)} MB (+${Math.round((peak - before) / 1024)} MB)`,
  );
}

/**
 * Posts unique signed webhooks at RATE per second until `stop()`; returns each one's start time
 * and latency in ms.
 */
function ingest(base: string, prefix: string) {
  const samples: { at: number; ms: number; status: number }[] = [];
  let stopped = false;
  let n = 0;
  const inFlight = new Set<Promise<void>>();
  const one = () => {
    const body = JSON.stringify({
      message_id: `${prefix}-${n++}`,
      from: '+14155550123',
      to: '+14155550100',
      ts: new Date().toISOString(),
      text: 'steady load',
    });
    const at = performance.now();
    // fetch keeps its connections open between requests
    const done = fetch(`${base}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': sign(SECRET, body) },
      body,
    }).then(
      async (response) => {
        await response.arrayBuffer();
        samples.push({ at, ms: performance.now() - at, status: response.status });
      },
      () => undefined,
    );
    inFlight.add(done);
    done.then(() => inFlight.delete(done));
  };
  const run = (async () => {
    const started = performance.now();
    let sent = 0;
    while (!stopped) {
      const due = Math.floor(((performance.now() - started) / 1000) * RATE);
      while (sent < due) {
        one();
        sent++;
      }
      await sleep(2);
    }
    await Promise.all(inFlight);
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await run;
    },
  };
}

function p99(samples: { ms: number }[]): string {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms (${sorted.length} requests)`;
}

/** `webhook-receiver backup` of the work database, the service running on it. */
function backupRun(): void {
  const backup = join(dir, 'backup.db');
  rmSync(backup, { force: true });
  const started = performance.now();
  const out = execFileSync(
    process.execPath,
    [join(ROOT, 'dist', 'cli.js'), 'backup', backup, '--database-url', `sqlite:///${work}`],
    { encoding: 'utf8' },
  );
  print(`backup (service running): ${seconds(started)} s in all: ${out.trim()}`);
  rmSync(backup, { force: true });
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'server.js'))) throw new Error('run npm run build first');
  print(`bench-keeping: ${MESSAGES} messages, ingest at ${RATE}/s, in ${dir}`);
  await seed();
  copyFileSync(seeded, work);
  // on disk before the service starts: else the copy's writeback runs under the first
  // measurement, and every commit's fsync waits behind it
  const copy = openSync(work, 'r+');
  fsyncSync(copy);
  closeSync(copy);
  rmSync(`${work}-wal`, { force: true });
  rmSync(`${work}-shm`, { force: true });
  const env = { WEBHOOK_SECRET: SECRET, DATABASE_URL: `sqlite:///${work}`, LOG_LEVEL: 'WARNING' };

  let server = await startServer(env, {
    keepLines: true,
    timeoutMs: 120_000,
    port: await freePort(),
  });
  try {
    if (PHASES.has('export')) {
      await exportRun(server, 'ndjson');
      await exportRun(server, 'csv');
    }
    if (PHASES.has('backup')) backupRun();
    if (PHASES.has('ingest')) {
      const quiet = ingest(server.base, 'quiet');
      await sleep(SECONDS * 1000);
      await quiet.stop();
      print(`ingest without a sweep: ${p99(quiet.samples)}`);
    }
  } finally {
    await stopServer(server);
  }
  if (!PHASES.has('ingest')) {
    if (options.cache === undefined) rmSync(dir, { recursive: true, force: true });
    return;
  }

  // the same database, now with RETENTION_DAYS: the first sweep starts 1 s after the start
  server = await startServer(
    { ...env, LOG_LEVEL: 'INFO', RETENTION_DAYS: '30', RETENTION_INTERVAL_S: '1' },
    { keepLines: true, timeoutMs: 120_000 },
  );
  try {
    const busy = ingest(server.base, 'busy');
    if (SWEEP_SECONDS === undefined) {
      let line: Record<string, unknown> | undefined;
      while (line === undefined) {
        await sleep(100);
        line = server.lines.find((l) => l.msg === 'retention sweep');
      }
      const ended = performance.now();
      await busy.stop();
      const duration = Number(line.duration_ms);
      const deleted = Number(line.deleted_messages);
      const during = busy.samples.filter((s) => s.at >= ended - duration && s.at <= ended);
      print(
        `sweep: ${deleted} messages in ${(duration / 1000).toFixed(1)} s = ${Math.round((deleted * 1000) / duration)} rows/s`,
      );
      print(`ingest during the sweep: ${p99(during)}`);
    } else {
      // the seeded messages go in seq order: the highest seq deleted is about how many went
      const db = new Database(work, { readonly: true });
      const swept = db.prepare('SELECT floor FROM message_seq').pluck();
      while ((swept.get() as number) === 0) await sleep(50);
      const started = performance.now();
      // until S seconds have passed, or the sweep has ended before them
      const deadline = started + SWEEP_SECONDS * 1000;
      while (
        performance.now() < deadline &&
        !server.lines.some((l) => l.msg === 'retention sweep')
      ) {
        await sleep(100);
      }
      const ended = performance.now();
      const deleted = swept.get() as number;
      db.close();
      await busy.stop();
      const during = busy.samples.filter((s) => s.at >= started && s.at <= ended);
      print(
        `sweep (at most its first ${SWEEP_SECONDS} s): about ${deleted} messages in ${((ended - started) / 1000).toFixed(1)} s = ${Math.round((deleted * 1000) / (ended - started))} rows/s`,
      );
      print(`ingest during the sweep: ${p99(during)}`);
    }
    const failed = busy.samples.filter((s) => s.status !== 200).length;
    print(`ingest answers other than 200 during the run: ${failed}`);
  } finally {
    await stopServer(server);
    if (options.cache === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
