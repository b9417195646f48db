import { ConfigError, type DatabaseConfig, loadConfig } from '../config.js';
import type { Message } from '../message.js';
import { openStore } from '../store/open.js';
import type { InsertOutcome, Store } from '../store/store.js';
import { generator } from './generate.js';
import { type LineSource, openLines } from './input.js';
import { parseLine } from './lines.js';
import { parseCount, parseSeed } from './options.js';
import { type Progress, progress } from './progress.js';
import { seedStatuses, seedWhatsAppMessages } from './seed-whatsapp.js';
import { env, Failure, parse, UsageError } from './usage.js';

/**
 * How many inserts are issued together. The SQLite store commits the inserts it is given in one
 * event-loop turn as one transaction (one fsync), so a chunk is one transaction. On 200,000
 * messages, 5,000, 10,000 and 20,000 took about the same time (1,000 and 2,000 were slower);
 * a larger chunk needs more memory and holds the database's write lock longer, which the
 * writers of a service running on the same file would wait on.
 */
export const CHUNK = 10_000;
const SHOWN_PROBLEMS = 10;

const OPTIONS = {
  count: { type: 'string' },
  statuses: { type: 'string' },
  whatsapp: { type: 'boolean' },
  file: { type: 'string' },
  seed: { type: 'string' },
  'database-url': { type: 'string' },
} as const;

interface Counts {
  created: number;
  duplicates: number;
  invalid: number;
}

/** The database as the service would open it: --database-url, else DATABASE_URL, else default. */
export function databaseFrom(option: string | undefined): DatabaseConfig {
  if (option === '') throw new UsageError('--database-url needs a value');
  try {
    return loadConfig({ DATABASE_URL: option ?? env('DATABASE_URL') }).database;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new UsageError(option === undefined ? error.message : `--database-url: ${error.message}`);
  }
}

/**
 * Chunks of inserts, at most two in flight: while the store commits one chunk (in a worker
 * thread, or in the next event-loop turn), the next one is generated or parsed. A chunk's
 * inserts are all issued in one event-loop turn, and the store gets a turn to take them as a
 * batch of their own before the next chunk is issued.
 */
class Chunks {
  private previous: Promise<void> = Promise.resolve();

  constructor(
    private readonly counts: Counts,
    private readonly committed: () => void,
  ) {}

  async add(inserts: Promise<InsertOutcome>[]): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.previous;
    const current = Promise.all(inserts).then((outcomes) => {
      for (const outcome of outcomes) {
        if (outcome === 'created') this.counts.created += 1;
        else this.counts.duplicates += 1;
      }
      this.committed();
    });
    current.catch(() => undefined); // awaited by the next add() or finish()
    this.previous = current;
  }

  finish(): Promise<void> {
    return this.previous;
  }
}

async function seedGenerated(
  store: Store,
  count: number,
  seed: string,
  counts: Counts,
  bar: Progress,
): Promise<void> {
  const next = generator(seed);
  const chunks = new Chunks(counts, () => {
    const done = counts.created + counts.duplicates;
    bar.update(done, count, done);
  });
  for (let issued = 0; issued < count; ) {
    const size = Math.min(CHUNK, count - issued);
    const inserts: Promise<InsertOutcome>[] = [];
    for (let i = 0; i < size; i++) inserts.push(store.insert(next()));
    issued += size;
    await chunks.add(inserts);
  }
  await chunks.finish();
}

async function seedLines(
  store: Store,
  source: LineSource,
  counts: Counts,
  problems: string[],
  bar: Progress,
): Promise<void> {
  let lineNumber = 0;
  let bytes = 0;
  let chunk: Message[] = [];
  const chunks = new Chunks(counts, () =>
    bar.update(bytes, source.size, counts.created + counts.duplicates),
  );
  for await (const lines of source.batches) {
    for (const line of lines) {
      lineNumber += 1;
      bytes += line.length + 1;
      const parsed = parseLine(line);
      if (parsed === null) continue;
      if ('invalid' in parsed) {
        counts.invalid += 1;
        if (problems.length < SHOWN_PROBLEMS)
          problems.push(`line ${lineNumber}: ${parsed.invalid}`);
      } else {
        chunk.push(parsed.message);
      }
    }
    if (chunk.length >= CHUNK) {
      await chunks.add(chunk.map((message) => store.insert(message)));
      chunk = [];
    }
  }
  if (chunk.length > 0) await chunks.add(chunk.map((message) => store.insert(message)));
  await chunks.finish();
}

function summary(counts: Counts, started: number): string {
  const seconds = (performance.now() - started) / 1000;
  const rows = counts.created + counts.duplicates;
  const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
  return `created ${counts.created}, duplicates ${counts.duplicates}, invalid ${counts.invalid}, ${seconds.toFixed(2)} s, ${rate} rows/s`;
}

/**
 * `seed (--count N [--seed S] [--whatsapp] | --file FILE | --statuses N [--seed S])
 * [--database-url URL]`: loads messages (or delivery statuses) straight into the store.
 * 1 when a line was invalid or the database failed.
 */
export async function runSeed(args: string[]): Promise<number> {
  const { values } = parse(args, OPTIONS, 0);
  const given = [values.count, values.file, values.statuses].filter((v) => v !== undefined);
  if (given.length !== 1) {
    throw new UsageError('seed needs either --count N or --file FILE, or --statuses N');
  }
  if (values.file !== undefined && values.seed !== undefined) {
    throw new UsageError('--seed goes with --count or --statuses, not with --file');
  }
  if (values.whatsapp === true && values.count === undefined) {
    throw new UsageError('--whatsapp goes with --count');
  }
  const statuses = values.statuses === undefined ? null : parseCount(values.statuses, 'statuses');
  const count = values.count === undefined ? null : parseCount(values.count);
  const seed = parseSeed(values.seed ?? '1');
  const database = databaseFrom(values['database-url']);
  // the file first, so that a missing one leaves no new database behind
  const source = values.file === undefined ? null : await openLines(values.file);

  let store: Store;
  try {
    store = await openStore(database);
  } catch (error) {
    throw new Failure(`cannot open the database: ${(error as Error).message}`);
  }
  const counts: Counts = { created: 0, duplicates: 0, invalid: 0 };
  const problems: string[] = [];
  const bar = progress();
  const started = performance.now();
  let failure: unknown = null;
  try {
    if (statuses !== null) await seedStatuses(store, statuses, seed, counts, bar);
    else if (values.whatsapp === true)
      await seedWhatsAppMessages(store, count ?? 0, seed, counts, bar);
    else if (source === null) await seedGenerated(store, count ?? 0, seed, counts, bar);
    else await seedLines(store, source, counts, problems, bar);
  } catch (error) {
    failure = error;
  } finally {
    bar.end();
    await store.close();
  }
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  if (counts.invalid > problems.length) {
    process.stderr.write(`... and ${counts.invalid - problems.length} more invalid lines\n`);
  }
  process.stdout.write(`${summary(counts, started)}\n`);
  if (failure instanceof Failure) throw failure;
  if (failure !== null) throw new Failure(`the database failed: ${(failure as Error).message}`);
  return counts.invalid > 0 ? 1 : 0;
}
