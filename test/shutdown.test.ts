import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresTarget, sqliteTarget, type Target } from './harness/database.js';
import { type Outcome, type Sent, send } from './harness/http.js';
import { signed, uniqueMessage } from './harness/messages.js';
import { type Exit, type ServerProcess, startServer } from './harness/server.js';
import { POSTGRES_SKIP, TEST_DATABASE_URL } from './helpers.js';

/**
 * Graceful shutdown of the built server under load: ~30 keep-alive clients post unique messages
 * when SIGTERM (or SIGINT) arrives. Every request sent before the signal must get a 200 and be
 * stored; whatever is sent afterwards is refused or fully answered; the process exits 0 in time.
 */

const SECRET = 'shutdown-secret';
const CLIENTS = 30;
/** messages acknowledged under load before the signal is sent */
const ACKNOWLEDGED_BEFORE_SIGNAL = 100;
/** gives up loading when they are not acknowledged by then */
const LOAD_BACKSTOP_MS = 60_000;
/** the longest a graceful shutdown may take */
const BOUND_MS = 10_000;

interface Delivery {
  id: string;
  sent: Sent;
}

interface Run {
  deliveries: Delivery[];
  /** requests on fresh connections, opened after the signal */
  late: Sent[];
  signalAt: number;
  exit: Exit;
  server: ServerProcess;
}

function describeOutcome(outcome: Outcome): string {
  return outcome.kind === 'answered'
    ? `${outcome.status} ${outcome.body}`
    : `${outcome.kind} ${outcome.code}`;
}

async function loadThenSignal(signal: NodeJS.Signals, target: Target): Promise<Run> {
  const server = await startServer({ WEBHOOK_SECRET: SECRET, DATABASE_URL: target.databaseUrl });
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const deliveries: Delivery[] = [];
  const late: Sent[] = [];
  let signalAt: number | null = null;
  let exited = false;
  let acknowledged = 0;
  void server.exited.then(() => {
    exited = true;
  });

  const client = async (n: number) => {
    for (let i = 0; !exited; i++) {
      const m = uniqueMessage(`s${n}-${i}`);
      const { headers, body } = signed(SECRET, JSON.stringify(m));
      const sent = await send(`${server.base}/webhook`, { method: 'POST', headers, body, agent });
      deliveries.push({ id: m.message_id, sent });
      if (sent.outcome.kind === 'answered' && sent.outcome.status === 200) acknowledged++;
      // once the server has stopped answering, a real sender would back off and retry later
      if (signalAt !== null && sent.outcome.kind !== 'answered') return;
    }
  };
  /** After the signal, keeps opening new connections until the process is gone. */
  const newcomer = async () => {
    while (!exited) {
      late.push(await send(`${server.base}/health/live`, { agent: false, timeoutMs: 15_000 }));
      await sleep(20);
    }
  };

  const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
  // under load until enough is acknowledged, however long a busy machine takes for that (the
  // minute is only a backstop: a server that never acknowledges fails instead of hanging)
  const loading = performance.now();
  while (acknowledged < ACKNOWLEDGED_BEFORE_SIGNAL) {
    if (exited || performance.now() - loading > LOAD_BACKSTOP_MS) {
      server.child.kill('SIGKILL');
      await Promise.all(clients);
      agent.destroy();
      throw new Error(
        `only ${acknowledged} of ${ACKNOWLEDGED_BEFORE_SIGNAL} messages acknowledged ` +
          `(${exited ? 'the server exited' : `in ${LOAD_BACKSTOP_MS} ms`})`,
      );
    }
    await sleep(10);
  }
  signalAt = performance.now();
  server.child.kill(signal);
  const newcomers = [newcomer(), newcomer()];
  const exit = await Promise.race([server.exited, sleep(BOUND_MS + 5000, null, { ref: false })]);
  if (exit === null) server.child.kill('SIGKILL');
  await Promise.all([...clients, ...newcomers]);
  agent.destroy();
  return { deliveries, late, signalAt, exit: exit ?? (await server.exited), server };
}

const cases: [NodeJS.Signals, string][] = [
  ['SIGTERM', 'sqlite'],
  ['SIGINT', 'sqlite'],
  ['SIGTERM', 'postgres'],
];

for (const [signal, store] of cases) {
  const skip = store === 'postgres' ? POSTGRES_SKIP : false;
  describe(`the built server under load on ${store}, on ${signal}`, { skip }, () => {
    let target: Target;
    let run: Run;

    before(async () => {
      target =
        store === 'postgres' ? await postgresTarget(TEST_DATABASE_URL as string) : sqliteTarget();
      run = await loadThenSignal(signal, target);
    });
    after(() => target?.remove());

    it(`exits 0 within ${BOUND_MS / 1000} s`, (t) => {
      const took = run.exit.at - run.signalAt;
      t.diagnostic(
        `exit ${run.exit.code ?? run.exit.signal} ${Math.round(took)} ms after ${signal}`,
      );
      assert.equal(run.exit.code, 0, `exit code (signal ${run.exit.signal})`);
      assert.ok(took < BOUND_MS, `exited ${Math.round(took)} ms after the signal`);
    });

    it('answers every request sent before the signal with 200', (t) => {
      const before = run.deliveries.filter((d) => d.sent.start < run.signalAt);
      const inFlight = before.filter((d) => d.sent.end > run.signalAt);
      const failed = before.filter(
        (d) => d.sent.outcome.kind !== 'answered' || d.sent.outcome.status !== 200,
      );
      t.diagnostic(
        `${before.length} requests before the signal, ${inFlight.length} of them in flight when it ` +
          `was sent; ${failed.length} not answered 200`,
      );
      assert.ok(
        before.length >= ACKNOWLEDGED_BEFORE_SIGNAL,
        `only ${before.length} requests before the signal`,
      );
      assert.ok(inFlight.length > 0, 'some requests were in flight when the signal was sent');
      assert.deepEqual(
        failed.map((d) => describeOutcome(d.sent.outcome)),
        [],
        'requests sent before the signal that did not get a 200',
      );
    });

    it('refuses or fully answers what comes after the signal, never half', (t) => {
      const afterSignal = [
        ...run.deliveries.filter((d) => d.sent.start >= run.signalAt).map((d) => d.sent),
        ...run.late,
      ];
      const counts = new Map<string, number>();
      for (const sent of afterSignal) {
        const key = describeOutcome(sent.outcome).split(' ').slice(0, 2).join(' ');
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      t.diagnostic(`after the signal: ${JSON.stringify(Object.fromEntries(counts))}`);
      for (const sent of afterSignal) {
        const outcome = sent.outcome;
        assert.notEqual(outcome.kind, 'broken', `half an answer: ${describeOutcome(outcome)}`);
        if (outcome.kind === 'answered') {
          assert.ok(outcome.status === 200, `answered after the signal with ${outcome.status}`);
          JSON.parse(outcome.body);
        } else {
          assert.ok(
            ['ECONNREFUSED', 'ECONNRESET'].includes(outcome.code),
            `refused with ${outcome.code}`,
          );
        }
      }
    });

    it('stored every message it acknowledged', async (t) => {
      const acknowledged = run.deliveries
        .filter((d) => d.sent.outcome.kind === 'answered' && d.sent.outcome.status === 200)
        .map((d) => d.id);
      const stored = await target.storedIds();
      const missing = acknowledged.filter((id) => !stored.has(id));
      t.diagnostic(`${acknowledged.length} acknowledged, ${stored.size} stored`);
      assert.deepEqual(missing, [], 'acknowledged messages missing from the database');
      const inspection = await target.inspect();
      assert.deepEqual(inspection.problems, [], 'the database passes its checks');
    });

    it('printed only JSON lines, the shutdown lines last', () => {
      assert.deepEqual(run.server.notJson, [], 'lines that are not JSON');
      assert.deepEqual(run.server.stderr, [], 'lines on standard error');
      const messages = run.server.lines.map((line) => line.msg);
      const shutting = run.server.lines.find((line) =>
        String(line.msg).startsWith('shutting down'),
      );
      assert.ok(shutting !== undefined, `no shutdown line among ${messages.length} lines`);
      assert.equal(shutting.signal, signal);
      assert.equal(messages.at(-1), 'stopped');
    });
  });
}
