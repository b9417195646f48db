import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ROOT } from './harness/server.js';
import { POSTGRES_SKIP, TEST_DATABASE_URL } from './helpers.js';

/**
 * The short form of scripts/crash.ts (its default is 20 cycles of 100-700 ms): the built server
 * is killed with SIGKILL five times under load, each time once it has acknowledged at least
 * MIN_ACKS messages in that cycle (however long a busy machine takes for them), restarted on the
 * same database each time, and everything acknowledged must be there afterwards, exactly once.
 */

/** messages answered 200 in each cycle before its kill */
const MIN_ACKS = 10;

interface Summary {
  ok: boolean;
  store: string;
  cycles: number;
  cycles_survived: number;
  requests: number;
  answered_200: number;
  acknowledged: number;
  acknowledged_stored: number;
  stored: number;
  stats_total: number;
  table_rows: number;
  distinct_ids: number;
  violations: number;
}

function runCrash(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts', 'crash.ts'), ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    out += chunk;
  });
  return new Promise((resolve) =>
    child.on('exit', (code) => resolve({ code, lines: out.trimEnd().split('\n') })),
  );
}

const stores: [string, string[], string | false][] = [
  ['sqlite', ['--store', 'sqlite'], false],
  ['postgres', ['--store', 'postgres', '--database-url', TEST_DATABASE_URL ?? ''], POSTGRES_SKIP],
];

for (const [store, storeArgs, skip] of stores) {
  describe(`scripts/crash.ts on ${store}, 5 cycles of 150 ms and ${MIN_ACKS} answered 200`, {
    skip,
  }, () => {
    let code: number | null;
    let lines: string[];
    let summary: Summary;

    before(async () => {
      ({ code, lines } = await runCrash([
        ...storeArgs,
        '--cycles',
        '5',
        '--min-ms',
        '150',
        '--max-ms',
        '150',
        '--min-acks',
        String(MIN_ACKS),
      ]));
      summary = JSON.parse(lines.at(-1) ?? '{}');
    });

    it('exits 0 with no violation', (t) => {
      for (const line of lines.slice(0, -1)) t.diagnostic(line);
      assert.equal(code, 0, lines.join('\n'));
      assert.equal(summary.ok, true);
      assert.equal(summary.violations, 0);
    });

    it('survived every cycle and acknowledged messages in each', () => {
      assert.equal(summary.store, store);
      assert.equal(summary.cycles, 5);
      assert.equal(summary.cycles_survived, 5);
      const cycles = lines.filter((line) => /^cycle \d+\/5: killed after/.test(line));
      assert.equal(cycles.length, 5, lines.join('\n'));
      for (const cycle of cycles) {
        const answered = Number(/, (\d+) answered 200$/.exec(cycle)?.[1]);
        assert.ok(answered >= MIN_ACKS, `killed before ${MIN_ACKS} answers of 200: ${cycle}`);
      }
      assert.ok(summary.acknowledged > 0, 'messages were acknowledged');
    });

    it('stored every acknowledged message, and the counts agree', () => {
      assert.equal(summary.acknowledged_stored, summary.acknowledged);
      assert.ok(summary.stored >= summary.acknowledged, 'stored at least what was acknowledged');
      assert.equal(summary.stats_total, summary.stored);
      assert.equal(summary.table_rows, summary.stored);
      assert.equal(summary.distinct_ids, summary.stored);
    });
  });
}
