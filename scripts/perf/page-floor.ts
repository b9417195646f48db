/**
 * What a page of GET /messages costs at the edge, against what it cannot cost less than: the
 * service's first page (50 messages, no filter) under C connections for D seconds, then a bare
 * Fastify server answering the very same JSON (../bench/baseline.ts with PAGE_FILE), in one run
 * with one load generator. Prints requests/s, p50 and p99 of both.
 *   node --import tsx scripts/perf/page-floor.ts http://127.0.0.1:8000 [C=50] [D=10]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer, stopServer } from '../../test/harness/server.js';
import { type LoadResult, runLoad } from '../bench/load.js';

const [base, c = '50', d = '10'] = process.argv.slice(2);
if (base === undefined) throw new Error('usage: page-floor.ts BASE [CONNECTIONS] [SECONDS]');
const PATH = '/messages?limit=50';
const work = mkdtempSync(join(tmpdir(), 'page-floor-'));
try {
  const answer = await fetch(new URL(PATH, base));
  if (answer.status !== 200) throw new Error(`GET ${PATH}: ${answer.status}`);
  const page = await answer.text();
  writeFileSync(join(work, 'page.json'), page);
  writeFileSync(join(work, 'paths.txt'), `${PATH}\n`);
  const load = (url: string) =>
    runLoad({
      base: url,
      mode: 'get',
      file: join(work, 'paths.txt'),
      duration: Number(d),
      connections: Number(c),
    });
  const service = await load(base);
  const bare = await startServer(
    { PAGE_FILE: join(work, 'page.json') },
    {
      args: ['--import', 'tsx', 'scripts/bench/baseline.ts'],
      probe: '/health/live',
      port: await freePort(),
      keepLines: false,
    },
  );
  let floor: LoadResult;
  try {
    floor = await load(bare.base);
  } finally {
    await stopServer(bare);
  }
  const row = (name: string, r: LoadResult) =>
    `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ` +
    `${r.p99.toFixed(2).padStart(8)} ${String(r.requests - (r.status['200'] ?? 0)).padStart(8)}`;
  console.log(`GET ${PATH} (${page.length} bytes), ${c} connections, ${d} s`);
  console.log(
    `${'server'.padEnd(22)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'non-200'.padStart(8)}`,
  );
  console.log(row('service', service));
  console.log(row('bare Fastify, same JSON', floor));
  console.log(`service / bare: ${(service.rps / floor.rps).toFixed(2)} of the requests/s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
