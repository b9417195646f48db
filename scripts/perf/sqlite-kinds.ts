/**
 * Time of GET /messages on SQLite per query kind of the load mix, inside the store (one reader
 * connection, no HTTP): `node --import tsx scripts/perf/sqlite-kinds.ts /path/to/app.db`.
 * For a search, the first answer counts its total (cold), the second tops the kept one up.
 */
import { fold } from '../../src/fold.js';
import { instantOf } from '../../src/instant.js';
import type { KeptCount } from '../../src/store/count-cache.js';
import { openConnection, READER_CACHE_KIB } from '../../src/store/sqlite/connection.js';
import { SqliteReader } from '../../src/store/sqlite/reader.js';
import type { ListFilter } from '../../src/store/store.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: sqlite-kinds.ts DATABASE_FILE');
const db = openConnection(path, READER_CACHE_KIB);
const reader = new SqliteReader(db);
const sender = db
  .prepare('SELECT sender FROM sender_counts ORDER BY messages DESC LIMIT 1 OFFSET 20')
  .pluck()
  .get() as string;
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
const time = (run: () => void) => {
  const start = performance.now();
  run();
  return `${(performance.now() - start).toFixed(2)} ms`;
};
for (const [name, filter] of kinds) {
  for (const offset of [0, 500]) {
    const page = { limit: 50, offset };
    let kept: KeptCount<number> | undefined;
    const cold = time(() => {
      kept = reader.list(filter, page).kept;
    });
    const warm =
      filter.q === undefined ? '' : ` | kept: ${time(() => reader.list(filter, page, kept))}`;
    console.log(`${name.padEnd(13)} offset ${String(offset).padEnd(3)} ${cold}${warm}`);
  }
}
db.close();
