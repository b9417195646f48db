/**
 * EXPLAIN (ANALYZE, BUFFERS) of the statement GET /messages runs on PostgreSQL, for each kind of
 * query in the load mix: `node --import tsx scripts/perf/explain.ts postgres://…/db [--plans]`.
 * Prints, per kind, the execution time of a cold count and of a kept (topped-up) one.
 */
import pg from 'pg';
import { fold } from '../../src/fold.js';
import { instantOf } from '../../src/instant.js';
import type { KeptCount } from '../../src/store/count-cache.js';
import { listQuery, type Snapshot } from '../../src/store/postgres/list.js';
import type { ListFilter } from '../../src/store/store.js';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: explain.ts DATABASE_URL [--plans]');
const plans = process.argv.includes('--plans');

const client = new pg.Client({ connectionString: url });
await client.connect();
await client.query('SET jit = off');
const { rows: top } = await client.query(
  'SELECT sender FROM sender_counts ORDER BY messages DESC LIMIT 1 OFFSET 20',
);
const sender = String(top[0]?.sender);
const since = instantOf('2025-01-20T10:17:00Z');
const kinds: [string, ListFilter][] = [
  ['unfiltered', {}],
  ['from', { from: sender }],
  ['since', { since }],
  ['from+since', { from: sender, since }],
  ['q common', { q: fold('station') }],
  ['q rare', { q: fold('xylophone') }],
  ['from+q', { from: sender, q: fold('station') }],
  ['since+q', { since, q: fold('station') }],
  ['from+since+q', { from: sender, since, q: fold('station') }],
];

async function explain(text: string, values: unknown[]): Promise<string> {
  const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values);
  const lines = rows.map((row) => String(row['QUERY PLAN']));
  if (plans) console.log(lines.join('\n'));
  const time = lines.find((line) => line.startsWith('Execution Time'))?.split(': ')[1] ?? '?';
  const buffers = lines.find((line) => line.trim().startsWith('Buffers'))?.trim() ?? '';
  return `${time} (${buffers})`;
}

for (const [name, filter] of kinds) {
  for (const offset of [0, 500]) {
    const page = { limit: 50, offset };
    const cold = listQuery(filter, page);
    const coldTime = await explain(cold.text, cold.values);
    let keptTime = '';
    if (filter.q !== undefined) {
      const { rows } = await client.query(cold.text, cold.values);
      const kept: KeptCount<Snapshot> = {
        epoch: Number(rows[0].epoch),
        watermark: String(rows[0].snapshot),
        count: Number(rows[0].total),
      };
      const warm = listQuery(filter, page, kept);
      keptTime = ` | kept: ${await explain(warm.text, warm.values)}`;
    }
    console.log(`${name.padEnd(13)} offset ${String(offset).padEnd(3)} ${coldTime}${keptTime}`);
  }
}
await client.end();
