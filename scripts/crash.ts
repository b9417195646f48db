/**
 * Crash safety of the built server: nothing acknowledged is ever lost.
 *
 *   node --import tsx scripts/crash.ts [options]     (after npm run build)
 *
 *   --store sqlite|postgres   the database (default sqlite: a temporary file)
 *   --database-url URL        for postgres: an administrator's URL; a fresh database is created
 *                             and dropped (default TEST_DATABASE_URL, else
 *                             postgres://postgres@127.0.0.1:5432/postgres)
 *   --cycles N                load-and-kill cycles (default 20)
 *   --min-ms, --max-ms        load before each kill, picked at random (default 100 and 700)
 *   --min-acks N              and, before each kill, at least N messages acknowledged in that
 *                             cycle, however long that takes (default 0); a cycle that does not
 *                             get them within 60 s is killed anyway and counts as a violation
 *   --clients N               concurrent keep-alive senders (default 32)
 *
 * Each cycle starts `node dist/server.js` on the same database, lets the senders post unique
 * signed messages (with resends, bad signatures and invalid bodies mixed in), and kills the
 * process with SIGKILL at a random moment. Then the server is started once more and everything
 * is checked: every acknowledged message is stored exactly once with the fields sent, nothing
 * refused or unsent is stored, GET /messages, /stats and the table agree on the count, the
 * totals the store keeps agree with the rows, and the database passes its integrity check.
 *
 * Prints one line per cycle, the figures, and a last line holding a JSON summary. Exits 0 when
 * nothing was violated, 1 otherwise, 2 on a usage error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  type Inspection,
  postgresTarget,
  sqliteTarget,
  type Target,
} from '../test/harness/database.js';
import { type ServerProcess, startServer, stopServer } from '../test/harness/server.js';
import { newLedger, runLoad } from './crash/load.js';
import { compare, readBack } from './crash/verify.js';

const SECRET = 'crash-secret';

function usage(message: string): never {
  process.stderr.write(`crash: ${message}\n`);
  process.exit(2);
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) usage(`--${name} must be a whole number >= 1`);
  return Number(value);
}

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        store: { type: 'string', default: 'sqlite' },
        'database-url': { type: 'string' },
        cycles: { type: 'string' },
        'min-ms': { type: 'string' },
        'max-ms': { type: 'string' },
        'min-acks': { type: 'string' },
        clients: { type: 'string' },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
})();
if (args.store !== 'sqlite' && args.store !== 'postgres') usage('--store is sqlite or postgres');
const CYCLES = positive('cycles', args.cycles, 20);
const MIN_MS = positive('min-ms', args['min-ms'], 100);
const MAX_MS = positive('max-ms', args['max-ms'], 700);
const CLIENTS = positive('clients', args.clients, 32);
const MIN_ACKS = args['min-acks'] === '0' ? 0 : positive('min-acks', args['min-acks'], 0);
/** how long a cycle waits for MIN_ACKS before it is killed anyway */
const ACKS_BACKSTOP_MS = 60_000;
if (MAX_MS < MIN_MS) usage('--max-ms is less than --min-ms');
const ADMIN_URL =
  args['database-url'] ??
  (process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  const target: Target =
    args.store === 'postgres' ? await postgresTarget(ADMIN_URL) : sqliteTarget();
  const env = { WEBHOOK_SECRET: SECRET, DATABASE_URL: target.databaseUrl, LOG_LEVEL: 'info' };
  const ledger = newLedger();
  const violations: string[] = [];
  let survived = 0;
  let logLines = 0;
  const notJson: string[] = [];
  const collect = (server: ServerProcess) => {
    logLines += server.printed();
    notJson.push(...server.notJson, ...server.stderr);
  };
  say(
    `crash: ${CYCLES} cycles of ${MIN_MS}-${MAX_MS} ms of load${MIN_ACKS > 0 ? ` and ${MIN_ACKS} acknowledged` : ''} from ${CLIENTS} clients, then SIGKILL; ${target.kind} at ${target.where}`,
  );
  try {
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const server = await startServer(env, { keepLines: false });
      survived++;
      const before = { requests: ledger.figures.requests, ok: ledger.figures.ok };
      let stopped = false;
      const load = runLoad({
        base: server.base,
        secret: SECRET,
        clients: CLIENTS,
        ledger,
        stopped: () => stopped,
        prefix: `c${cycle}`,
      });
      const ms = MIN_MS + Math.floor(Math.random() * (MAX_MS - MIN_MS + 1));
      const loading = performance.now();
      await sleep(ms);
      const acks = () => ledger.figures.ok - before.ok;
      while (acks() < MIN_ACKS && performance.now() - loading < ACKS_BACKSTOP_MS) {
        if (server.child.exitCode !== null || server.child.signalCode !== null) break;
        await sleep(5);
      }
      if (acks() < MIN_ACKS) {
        violations.push(
          `cycle ${cycle}: only ${acks()} of the ${MIN_ACKS} acknowledged messages wanted before the kill`,
        );
      }
      const loadedMs = Math.round(performance.now() - loading);
      server.child.kill('SIGKILL');
      stopped = true;
      const exit = await server.exited;
      await load;
      collect(server);
      if (exit.signal !== 'SIGKILL')
        violations.push(`cycle ${cycle}: the server exited by itself (${exit.code})`);
      say(
        `cycle ${cycle}/${CYCLES}: killed after ${loadedMs} ms of load; ` +
          `${ledger.figures.requests - before.requests} requests, ${ledger.figures.ok - before.ok} answered 200`,
      );
    }

    // once more, to read everything back
    const server = await startServer(env);
    const ready = await fetch(`${server.base}/health/ready`);
    if (ready.status !== 200)
      violations.push(`after the last restart /health/ready is ${ready.status}`);
    const readback = await readBack(server.base);
    const result = compare(ledger, readback);
    violations.push(...result.violations, ...ledger.violations);
    const exit = await stopServer(server, 'SIGTERM');
    collect(server);
    if (exit.code !== 0)
      violations.push(`the final SIGTERM ended the server with ${exit.code ?? exit.signal}`);
    if (notJson.length > 0)
      violations.push(`${notJson.length} lines printed were not JSON: ${notJson[0]}`);

    let inspection: Inspection | null = null;
    try {
      inspection = await target.inspect();
      violations.push(...inspection.problems);
      if (inspection.rows !== result.stored) {
        violations.push(
          `the table holds ${inspection.rows} rows, GET /messages listed ${result.stored}`,
        );
      }
      if (inspection.distinctIds !== inspection.rows) {
        violations.push(`${inspection.rows} rows but ${inspection.distinctIds} distinct ids`);
      }
    } catch (error) {
      violations.push(`cannot inspect the database: ${(error as Error).message}`);
    }

    const { figures } = ledger;
    say(
      `cycles survived: ${survived} of ${CYCLES} (each a SIGKILL and a restart on the same database)`,
    );
    say(`requests sent: ${figures.requests}`);
    say(`answered 200: ${figures.ok}`);
    say(`other answers by status: ${JSON.stringify(figures.statuses)}`);
    say(
      `connection errors: ${JSON.stringify(figures.connectionErrors)}; answers cut off: ${figures.broken}`,
    );
    say(
      `messages acknowledged: ${result.acknowledged}, found stored exactly: ${result.acknowledgedStored}`,
    );
    say(
      `messages stored: ${result.stored} (${result.storedUnacknowledged} stored whose answer was lost; /stats says ${readback.stats.total_messages})`,
    );
    if (inspection !== null) {
      say(`table rows: ${inspection.rows}, distinct ids: ${inspection.distinctIds}`);
      for (const [check, value] of Object.entries(inspection.checks))
        say(`check ${check}: ${value}`);
    }
    say(`log lines: ${logLines}, not JSON: ${notJson.length}`);
    for (const violation of violations.slice(0, 20)) say(`VIOLATION ${violation}`);
    if (violations.length > 20) say(`... and ${violations.length - 20} more violations`);
    say(
      JSON.stringify({
        ok: violations.length === 0,
        store: target.kind,
        cycles: CYCLES,
        cycles_survived: survived,
        requests: figures.requests,
        answered_200: figures.ok,
        other_answers: figures.statuses,
        connection_errors: figures.connectionErrors,
        answers_cut_off: figures.broken,
        acknowledged: result.acknowledged,
        acknowledged_stored: result.acknowledgedStored,
        stored: result.stored,
        stored_unacknowledged: result.storedUnacknowledged,
        stats_total: readback.stats.total_messages,
        table_rows: inspection?.rows ?? null,
        distinct_ids: inspection?.distinctIds ?? null,
        integrity: inspection?.checks ?? null,
        log_lines: logLines,
        violations: violations.length,
      }),
    );
    return violations.length === 0 ? 0 : 1;
  } finally {
    await target
      .remove()
      .catch((error) => say(`could not remove the database: ${(error as Error).message}`));
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    say(`crash: ${(error as Error).stack ?? error}`);
    say(JSON.stringify({ ok: false, error: (error as Error).message }));
    process.exit(1);
  },
);
