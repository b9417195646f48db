/**
 * npm run bench [-- options]: how fast the built service is, next to a bare Fastify server on
 * the same machine, in one run with one load generator (wrk when installed, else autocannon).
 *
 *   --duration S        seconds per scenario (default 5)
 *   --connections N     concurrent connections (default 50)
 *   --messages N        messages stored for the read scenarios (default 1000000)
 *   --read-rate R       requests/s at which read latency is measured (default 1000; a tenth of
 *                       it for the rare word, a hundredth for the common word and deep offsets);
 *                       each read scenario also runs as fast as it goes, for its requests/s
 *   --postgres URL      also run everything on PostgreSQL: an admin URL such as
 *                       postgres://postgres@127.0.0.1:5432/postgres (a database is created and
 *                       dropped for the run)
 *   --only sqlite|postgres
 *   --cache DIR         keep the seeded SQLite database in DIR and reuse it next time
 *                       (default: a temporary directory, removed afterwards)
 *   --in-flight N       WhatsApp deliveries of 100 messages sent concurrently (default 8)
 *   --scenarios LIST    run only these, comma-separated (default: all): ingest (new messages,
 *                       paced, duplicates, and the bare Fastify baseline they are compared
 *                       with), whatsapp, reads (seeds --messages, then readiness and every GET)
 *   --before REF        also build the git revision REF (say, main before a change) and compare
 *                       its POST /webhook ingest and its WhatsApp deliveries with this build's,
 *                       in this run
 *
 * Prints one table per store: scenario, the most requests/s it sustained (50 connections, no
 * pause), p50 and p99 latency and the load they were measured at (a run saturating two shared
 * cores queues every request behind the others, so latency targets are measured at a stated
 * rate), the ratio to the baseline, the service's peak RSS, the target and whether it was met.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generator } from '../src/cli/generate.js';
import { encodeCursor, positionOf } from '../src/cursor.js';
import type { Message } from '../src/message.js';
import { sign } from '../src/signature.js';
import { freePort, startServer, stopServer } from '../test/harness/server.js';
import { buildRevision, compareIngest, describeRevision } from './bench/before.js';
import { runLoad } from './bench/load.js';
import { APP_SECRET, benchWhatsApp } from './bench/whatsapp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'bench-secret';
/** A word in under 1% of messages (and whose trigrams are rare, like a real uncommon word). */
const RARE_WORD = 'zanzibar';
const RARE_SHARE = 0.005;

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    messages: { type: 'string', default: '1000000' },
    'read-rate': { type: 'string', default: '1000' },
    postgres: { type: 'string' },
    only: { type: 'string' },
    cache: { type: 'string' },
    'in-flight': { type: 'string', default: '8' },
    before: { type: 'string' },
    scenarios: { type: 'string', default: 'ingest,whatsapp,reads' },
  },
});
const DURATION = Number(options.duration);
const CONNECTIONS = Number(options.connections);
const MESSAGES = Number(options.messages);
const READ_RATE = Number(options['read-rate']);
const IN_FLIGHT = Number(options['in-flight']);
const SCENARIO_NAMES = ['ingest', 'whatsapp', 'reads'] as const;
const SCENARIOS = new Set(
  (options.scenarios ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== ''),
);
for (const name of SCENARIOS) {
  if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
    throw new Error(`--scenarios: unknown scenario ${name} (known: ${SCENARIO_NAMES.join(', ')})`);
  }
}
const runs = (name: (typeof SCENARIO_NAMES)[number]) => SCENARIOS.has(name);
/** --before: REF's built server, and how the table names it */
let BEFORE: { server: string; label: string } | null = null;
/**
 * Scenarios whose requests each cost far more than a page are paced slower (a share of
 * --read-rate): at the full rate they would only measure their own queue.
 */
const RATE_SHARE: Record<string, number> = { deep_offset: 0.01, q_rare: 0.1, q_common: 0.01 };

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  /** the load p50 and p99 were measured at: "max" (as fast as it goes) or a rate */
  latencyAt?: string;
  ratio: string;
  rssMb: number;
  target: string;
  met: string;
  /** answers outside 2xx, over every run of the scenario */
  non2xx?: number;
}

/** Answers outside 2xx in a load result. */
function non2xx(...results: { requests: number; status: Record<string, number> }[]): number {
  let count = 0;
  for (const result of results) {
    let ok = 0;
    for (const [status, n] of Object.entries(result.status)) if (status.startsWith('2')) ok += n;
    count += result.requests - ok;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// processes

interface Server {
  child: ChildProcess;
  base: string;
  startedMs: number;
  stop(): Promise<void>;
}

/** Starts `node ARGS` (default: the built server) on a free port; resolves once `probe` answers. */
async function startProcess(
  env: Record<string, string>,
  options: { args?: string[]; probe?: string } = {},
): Promise<Server> {
  const server = await startServer(env, {
    ...options,
    port: await freePort(),
    keepLines: false,
    timeoutMs: 60_000,
  });
  return {
    child: server.child,
    base: server.base,
    startedMs: server.spawnedAt,
    stop: async () => {
      await stopServer(server);
    },
  };
}

const startService = (databaseUrl: string) =>
  startProcess({
    WEBHOOK_SECRET: SECRET,
    WHATSAPP_APP_SECRET: APP_SECRET,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'ERROR',
  });

/** CPU time of the whole machine: [busy, total] jiffies. */
function cpu(): [number, number] {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/);
  const [user = 0, nice = 0, system = 0, idle = 0] = fields.map(Number);
  return [user + nice + system, user + nice + system + idle];
}

/**
 * Waits (up to 30 s) until the machine is nearly idle, so that a scenario does not measure the
 * previous one's backlog (the database may still be finishing its queued queries).
 */
async function quiet(): Promise<void> {
  if (!existsSync('/proc/stat')) return;
  for (let i = 0; i < 30; i++) {
    const [busy0, total0] = cpu();
    await sleep(1000);
    const [busy1, total1] = cpu();
    if ((busy1 - busy0) / Math.max(1, total1 - total0) < 0.1) return;
  }
}

/** Peak resident memory of `pid` while `during` runs, in MB. */
async function peakRss<T>(pid: number, during: Promise<T>): Promise<[T, number]> {
  let peak = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // the process is gone
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  try {
    return [await during, peak];
  } finally {
    clearInterval(timer);
    sample();
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
}

// ---------------------------------------------------------------------------------------------
// data

/** Signed webhook requests for messages nobody has sent yet: "<signature>\t<body>" per line. */
function writeRequests(path: string, count: number, seed: string): void {
  const next = generator(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify(next());
    lines.push(`${sign(SECRET, body)}\t${body}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** The stored messages' JSONL (for seeding): generated ones, a few with the rare word. */
function seedFiles(dir: string): { generated: number; rare: string; sample: Message[] } {
  const rareCount = Math.round(MESSAGES * RARE_SHARE);
  const next = generator('bench-rare');
  const lines: string[] = [];
  for (let i = 0; i < rareCount; i++) {
    const m = next();
    m.message_id = `rare-${i}`;
    m.text = `${m.text ?? ''} ${RARE_WORD}`.trim();
    lines.push(JSON.stringify(m));
  }
  const rare = join(dir, 'rare.jsonl');
  writeFileSync(rare, `${lines.join('\n')}\n`);
  // the first messages of the seed the CLI generates, for paths that name real senders and ts
  const seeded = generator('bench');
  const sample = Array.from({ length: 2000 }, () => seeded());
  return { generated: MESSAGES - rareCount, rare, sample };
}

function seed(databaseUrl: string, files: { generated: number; rare: string }): void {
  const cli = (...args: string[]) =>
    execFileSync(
      process.execPath,
      ['dist/cli.js', 'seed', ...args, '--database-url', databaseUrl],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  cli('--count', String(files.generated), '--seed', 'bench');
  cli('--file', files.rare);
}

function pathFiles(dir: string, sample: Message[]): Record<string, string> {
  const pick = (i: number) => sample[(i * 7919) % sample.length] as Message;
  const paths = (name: string, make: (i: number) => string) => {
    const file = join(dir, `${name}.txt`);
    writeFileSync(file, `${Array.from({ length: 500 }, (_, i) => make(i)).join('\n')}\n`);
    return file;
  };
  const enc = encodeURIComponent;
  return {
    unfiltered: paths('unfiltered', (i) => `/messages?limit=50&offset=${(i % 4) * 50}`),
    from: paths('from', (i) => `/messages?from=${enc(pick(i).from)}`),
    since: paths('since', (i) => `/messages?since=${enc(pick(i).ts)}`),
    from_since: paths(
      'from_since',
      (i) => `/messages?from=${enc(pick(i).from)}&since=${enc(pick(i + 1).ts)}`,
    ),
    deep_offset: paths(
      'deep_offset',
      (i) => `/messages?offset=${Math.floor((((i * 7919) % 1000) / 1000) * (MESSAGES - 50))}`,
    ),
    deep_cursor: paths(
      'deep_cursor',
      (i) => `/messages?cursor=${encodeCursor(positionOf(pick(i)))}`,
    ),
    q_rare: paths('q_rare', () => `/messages?q=${RARE_WORD}`),
    q_common: paths(
      'q_common',
      (i) => `/messages?q=${['delivery', 'tracking', 'payment', 'hello'][i % 4]}`,
    ),
    stats: paths('stats', () => '/stats'),
    by_id: paths('by_id', (i) => `/messages/${enc(pick(i).message_id)}`),
  };
}

// ---------------------------------------------------------------------------------------------
// one store

async function postScenario(
  server: Server,
  file: string,
  start: number,
  count: number | undefined,
  rate?: number,
) {
  await quiet();
  return peakRss(
    server.child.pid as number,
    runLoad({
      base: server.base,
      mode: 'post',
      file,
      start,
      count,
      duration: DURATION,
      connections: CONNECTIONS,
      ...(rate === undefined ? {} : { rate }),
    }),
  );
}

/** The current build's POST /webhook ingest against REF's (--before), on fresh databases. */
async function ingestVersusBefore(
  name: string,
  before: { server: string; label: string },
  freshUrl: (label: string) => Promise<string>,
  work: string,
): Promise<Row> {
  const compared = await compareIngest(async (which, round) => {
    const url = await freshUrl(`ab${round}`);
    const file = join(work, `requests-${name}-ab${round}.tsv`);
    writeRequests(file, Math.max(80_000 * DURATION, 50_000), `ab${round}-${name}`);
    const server =
      which === 'current'
        ? await startService(url)
        : await startProcess(
            { WEBHOOK_SECRET: SECRET, DATABASE_URL: url, LOG_LEVEL: 'ERROR' },
            { args: [before.server] },
          );
    try {
      const [result] = await postScenario(server, file, 1, undefined);
      if ((result.status['200'] ?? 0) !== result.requests) {
        throw new Error(`ingest (${which}): not every answer was 200`);
      }
      log(
        `${name} ingest, ${which === 'current' ? 'this build' : before.label}: ${result.rps.toFixed(0)} req/s`,
      );
      return { rps: result.rps, p99: result.p99 };
    } finally {
      await server.stop();
    }
  });
  return {
    scenario: `ingest vs ${before.label} (${compared.before.rps.toFixed(0)} req/s, p99 ${compared.before.p99.toFixed(2)}): x${compared.ratio.toFixed(3)}`,
    rps: compared.current.rps,
    p50: 0,
    p99: compared.current.p99,
    ratio: '',
    rssMb: 0,
    target: '≥0.95 before',
    met: compared.ratio >= 0.95 ? 'yes' : 'no',
  };
}

/** The WhatsApp scenarios on REF's build (--before), on a fresh database, for comparison. */
async function whatsAppBefore(
  name: string,
  before: { server: string; label: string },
  url: string,
): Promise<Row[]> {
  const server = await startProcess(
    {
      WEBHOOK_SECRET: SECRET,
      WHATSAPP_APP_SECRET: APP_SECRET,
      DATABASE_URL: url,
      LOG_LEVEL: 'ERROR',
    },
    { args: [before.server] },
  );
  try {
    await quiet();
    const [rows, rss] = await peakRss(
      server.child.pid as number,
      benchWhatsApp(`${name} (${before.label})`, server.base, {
        duration: DURATION,
        concurrency: IN_FLIGHT,
        log,
      }),
    );
    return rows.map((row) => ({
      ...row,
      scenario: `${row.scenario}, ${before.label}`,
      rssMb: rss,
      target: '',
      met: '',
    }));
  } finally {
    await server.stop();
  }
}

/** POST /webhook on an empty store: new messages, then paced, then the same again. */
async function ingestScenarios(
  server: Server,
  work: string,
  name: string,
  baselineRps: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  const ratio = (rps: number) => (rps / baselineRps).toFixed(2);
  const requests = join(work, `requests-${name}.tsv`);
  writeRequests(requests, Math.max(80_000 * DURATION, 50_000), `ingest-${name}`);
  const [ingest, ingestRss] = await postScenario(server, requests, 1, undefined);
  const stored = (await (await fetch(`${server.base}/stats`)).json()) as { total_messages: number };
  const ok = ingest.status['200'] ?? 0;
  if (ok !== ingest.requests)
    throw new Error(`ingest: ${ingest.requests - ok} answers were not 200`);
  rows.push({
    scenario: 'ingest (new)',
    non2xx: non2xx(ingest),
    rps: ingest.rps,
    p50: ingest.p50,
    p99: ingest.p99,
    ratio: ratio(ingest.rps),
    rssMb: ingestRss,
    target: '≥0.35 base',
    met: ingest.rps / baselineRps >= 0.35 ? 'yes' : 'no',
  });
  // latency at the target load: 35% of the baseline's rate, new messages again
  const [paced, pacedRss] = await postScenario(
    server,
    requests,
    ingest.sent + 1,
    undefined,
    0.35 * baselineRps,
  );
  rows.push({
    scenario: 'ingest at 0.35 base rate',
    non2xx: non2xx(paced),
    rps: paced.rps,
    p50: paced.p50,
    p99: paced.p99,
    latencyAt: `${paced.rps.toFixed(0)}/s`,
    ratio: ratio(paced.rps),
    rssMb: pacedRss,
    target: 'p99<10',
    met: paced.p99 < 10 && (paced.status['200'] ?? 0) === paced.requests ? 'yes' : 'no',
  });
  log(`${name} ingest: ${ok} answered 200, ${stored.total_messages} stored, ${ingest.sent} sent`);
  if (stored.total_messages < ok) throw new Error('fewer rows stored than 200s sent');
  const [dup, dupRss] = await postScenario(
    server,
    requests,
    1,
    Math.max(ingest.sent - CONNECTIONS, 1),
  );
  rows.push({
    scenario: 'duplicates',
    non2xx: non2xx(dup),
    rps: dup.rps,
    p50: dup.p50,
    p99: dup.p99,
    ratio: ratio(dup.rps),
    rssMb: dupRss,
    target: '> ingest',
    met: dup.rps > ingest.rps ? 'yes' : 'no',
  });
  return rows;
}

async function benchStore(
  name: string,
  databaseUrl: () => Promise<string>,
  seededUrl: () => Promise<string>,
  work: string,
  baselineRps: number,
  freshUrl: (label: string) => Promise<string>,
): Promise<Row[]> {
  const rows: Row[] = [];
  if (BEFORE !== null && runs('ingest')) {
    rows.push(await ingestVersusBefore(name, BEFORE, freshUrl, work));
  }
  if (BEFORE !== null && runs('whatsapp')) {
    rows.push(...(await whatsAppBefore(name, BEFORE, await freshUrl('wa-before'))));
  }

  let server = await startService(await databaseUrl());
  if (runs('ingest')) rows.push(...(await ingestScenarios(server, work, name, baselineRps)));
  if (runs('whatsapp')) {
    await quiet();
    const [whatsapp, whatsappRss] = await peakRss(
      server.child.pid as number,
      benchWhatsApp(name, server.base, { duration: DURATION, concurrency: IN_FLIGHT, log }),
    );
    for (const row of whatsapp) rows.push({ ...row, rssMb: whatsappRss });
  }
  await server.stop();
  if (!runs('reads')) return rows;

  // reads on a large store
  const url = await seededUrl();
  server = await startService(url);
  await waitFor('ready', async () => (await fetch(`${server.base}/health/ready`)).ok, 30_000);
  const readyMs = performance.now() - server.startedMs;
  const indexStart = performance.now();
  await waitFor(
    'the search index',
    async () => (await metric(server.base, 'search_index_backlog_messages')) === 0,
    30 * 60_000,
  );
  log(
    `${name}: ready ${readyMs.toFixed(0)} ms after start; search index caught up in ${((performance.now() - indexStart) / 1000).toFixed(1)} s`,
  );
  rows.push({
    scenario: `ready with ${MESSAGES} stored`,
    rps: 0,
    p50: readyMs,
    p99: readyMs,
    ratio: '',
    rssMb: 0,
    target: '<1000 ms',
    met: readyMs < 1000 ? 'yes' : 'no',
  });
  const files = pathFiles(work, seedFiles(work).sample);
  const targets: Record<string, [string, (p99: number) => boolean]> = {
    unfiltered: ['p99<10', (p) => p < 10],
    from: ['p99<10', (p) => p < 10],
    since: ['p99<10', (p) => p < 10],
    from_since: ['p99<10', (p) => p < 10],
    deep_offset: ['(offset: no target)', () => true],
    deep_cursor: ['p99<10', (p) => p < 10],
    q_rare: ['p99<10', (p) => p < 10],
    q_common: ['p99<100', (p) => p < 100],
    stats: ['p99<2', (p) => p < 2],
    by_id: ['p99<5', (p) => p < 5],
  };
  let peak = 0;
  for (const [scenario, file] of Object.entries(files)) {
    // as fast as it goes (requests/s), then at READ_RATE for the latency a client sees
    const get = async (rate?: number) => {
      await quiet();
      return peakRss(
        server.child.pid as number,
        runLoad({
          base: server.base,
          mode: 'get',
          file,
          duration: DURATION,
          // paced: about 20 requests a second per connection, so that slow rates still send some
          connections:
            rate === undefined
              ? CONNECTIONS
              : Math.min(CONNECTIONS, Math.max(1, Math.round(rate / 20))),
          ...(rate === undefined ? {} : { rate }),
        }),
      );
    };
    const [max, maxRss] = await get();
    const [paced, pacedRss] = await get(READ_RATE * (RATE_SHARE[scenario] ?? 1));
    peak = Math.max(peak, maxRss, pacedRss);
    const [target, met] = targets[scenario] ?? ['', () => true];
    const non200 =
      max.requests - (max.status['200'] ?? 0) + paced.requests - (paced.status['200'] ?? 0);
    rows.push({
      scenario: `GET ${scenario}${non200 > 0 ? ` (${non200} non-200!)` : ''}`,
      non2xx: non2xx(max, paced),
      rps: max.rps,
      p50: paced.p50,
      p99: paced.p99,
      latencyAt: `${paced.rps.toFixed(0)}/s`,
      ratio: '',
      rssMb: Math.max(maxRss, pacedRss),
      target,
      met: paced.requests > 0 && met(paced.p99) && non200 === 0 ? 'yes' : 'no',
    });
  }
  rows.push({
    scenario: `RSS under load, ${MESSAGES} stored`,
    rps: 0,
    p50: 0,
    p99: 0,
    ratio: '',
    rssMb: peak,
    target: '<200 MB',
    met: peak < 200 ? 'yes' : 'no',
  });
  await server.stop();
  return rows;
}

function print(title: string, rows: Row[]): void {
  const header = [
    'scenario',
    'max req/s',
    'latency at',
    'p50 ms',
    'p99 ms',
    'vs base',
    'RSS MB',
    'target',
    'met',
    'non-2xx',
  ];
  const table = rows.map((r) => [
    r.scenario,
    r.rps === 0 ? '' : r.rps.toFixed(0),
    r.latencyAt ?? (r.rps === 0 ? '' : 'max'),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.ratio,
    r.rssMb === 0 ? '' : r.rssMb.toFixed(0),
    r.target,
    r.met,
    r.non2xx === undefined ? '' : String(r.non2xx),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...table.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(row));
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'webhook-bench-'));
  const cache = options.cache;
  if (cache !== undefined) mkdirSync(cache, { recursive: true });
  try {
    if (options.before !== undefined) {
      log(`building ${options.before}`);
      BEFORE = {
        server: buildRevision(ROOT, options.before, join(work, 'before')),
        label: `${options.before} (${describeRevision(ROOT, options.before)})`,
      };
    }
    // the bare server is what ingest is compared with; other scenarios need no baseline
    const baselineRows: Row[] = [];
    let baselineRps = Number.NaN;
    if (runs('ingest')) {
      const requests = join(work, 'baseline.tsv');
      writeRequests(requests, Math.max(80_000 * DURATION, 50_000), 'baseline');
      const baseline = await startProcess(
        {},
        { args: ['--import', 'tsx', 'scripts/bench/baseline.ts'], probe: '/health/live' },
      );
      const [base] = await postScenario(baseline, requests, 1, undefined);
      await baseline.stop();
      baselineRps = base.rps;
      baselineRows.push({
        scenario: 'bare Fastify POST',
        rps: baselineRps,
        p50: base.p50,
        p99: base.p99,
        ratio: '1.00',
        rssMb: 0,
        target: '',
        met: '',
      });
    }
    const files = seedFiles(work);
    console.log(
      `# bench: ${[...SCENARIOS].join(', ')}; ${DURATION} s per scenario, ${CONNECTIONS} connections, ${MESSAGES} stored messages, ${(await import('./bench/load.js')).generatorName()}, node ${process.version}`,
    );
    if (options.only !== 'postgres') {
      const seeded = join(cache ?? work, `seeded-${MESSAGES}.db`);
      const rows = await benchStore(
        'sqlite',
        async () => `sqlite:///${join(work, 'ingest.db')}`,
        async () => {
          if (!existsSync(seeded)) {
            const started = performance.now();
            seed(`sqlite:///${seeded}`, files);
            log(
              `seeded ${MESSAGES} messages into SQLite in ${((performance.now() - started) / 1000).toFixed(1)} s`,
            );
          }
          return `sqlite:///${seeded}`;
        },
        work,
        baselineRps,
        async (label) => `sqlite:///${join(work, `${label}.db`)}`,
      );
      print('SQLite', [...baselineRows, ...rows]);
    }
    if (options.postgres !== undefined && options.only !== 'sqlite') {
      const admin = new pg.Client({ connectionString: options.postgres });
      await admin.connect();
      const names = [`webhook_bench_ingest_${process.pid}`, `webhook_bench_seeded_${process.pid}`];
      const urlOf = (name: string) => {
        const url = new URL(options.postgres as string);
        url.pathname = `/${name}`;
        return url.toString();
      };
      try {
        for (const name of names) await admin.query(`CREATE DATABASE ${name}`);
        const rows = await benchStore(
          'postgres',
          async () => urlOf(names[0] as string),
          async () => {
            const started = performance.now();
            seed(urlOf(names[1] as string), files);
            // what autovacuum does soon after a bulk load: statistics and the visibility map
            const seeded = new pg.Client({ connectionString: urlOf(names[1] as string) });
            await seeded.connect();
            await seeded.query('VACUUM ANALYZE');
            await seeded.end();
            log(
              `seeded ${MESSAGES} messages into PostgreSQL in ${((performance.now() - started) / 1000).toFixed(1)} s`,
            );
            return urlOf(names[1] as string);
          },
          work,
          baselineRps,
          async (label) => {
            const name = `webhook_bench_${label}_${process.pid}`;
            names.push(name);
            await admin.query(`CREATE DATABASE ${name}`);
            return urlOf(name);
          },
        );
        print('PostgreSQL', [...baselineRows, ...rows]);
        // a read PostgreSQL could answer must never time out or be shed under this load
        const failed = rows.filter((row) => (row.non2xx ?? 0) > 0);
        if (failed.length > 0) {
          console.log(
            `\nFAILED: PostgreSQL answered non-2xx in ${failed.map((row) => `${row.scenario} (${row.non2xx})`).join(', ')}`,
          );
          process.exitCode = 1;
        }
      } finally {
        for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
