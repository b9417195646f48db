/**
 * How long each retention step's transaction takes on a copy of a SQLite database, and which
 * part makes the slow ones slow: deletes `--rows` messages in steps of `--step` rows (as the
 * sweep's steps take them), with the search index part on or off, and prints the step times.
 *   node --import tsx scripts/perf/sweep-steps.ts COPY.db [--step 40] [--rows 40000] [--no-index]
 * AUTOCHECKPOINT=N sets the connection's wal_autocheckpoint (0: no checkpoint at all, which
 * shows what the checkpoints inside commits cost). The copy is changed: give it a throwaway copy.
 */
import { parseArgs } from 'node:util';
import { openConnection, WRITER_CACHE_KIB } from '../../src/store/sqlite/connection.js';
import { SqliteDeleter } from '../../src/store/sqlite/erase.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    step: { type: 'string', default: '40' },
    rows: { type: 'string', default: '40000' },
    'no-index': { type: 'boolean', default: false },
  },
});
const path = positionals[0];
if (path === undefined) throw new Error('usage: sweep-steps.ts COPY.db [--step N] [--rows N]');
const db = openConnection(path, WRITER_CACHE_KIB);
if (values['no-index'])
  db.prepare('UPDATE search_index SET indexed_through = 0 WHERE id = 1').run();
if (process.env.AUTOCHECKPOINT !== undefined)
  db.pragma(`wal_autocheckpoint = ${process.env.AUTOCHECKPOINT}`);
const deleter = new SqliteDeleter(db);
const step = Number(values.step);
const times: number[] = [];
let deleted = 0;
while (deleted < Number(values.rows)) {
  const started = performance.now();
  const n = deleter.delete({
    target: { kind: 'received-before', before: '2100-01-01T00:00:00Z' },
    limit: step,
    tombstone: false,
  });
  times.push(performance.now() - started);
  if (n === 0) break;
  deleted += n;
}
times.sort((a, b) => a - b);
const at = (p: number) =>
  (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(2);
const slow = times.filter((t) => t > 20).length;
console.log(
  `${deleted} rows in ${times.length} steps of ${step}: p50 ${at(0.5)} ms, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${at(1)}; steps over 20 ms: ${slow}`,
);
db.close();
