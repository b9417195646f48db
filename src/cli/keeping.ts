import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { EXPORT_FORMATS, type ExportFormat, ExportStream } from '../export.js';
import { fold } from '../fold.js';
import { instantOf, isInstant } from '../instant.js';
import { E164_PATTERN } from '../message.js';
import { openStore } from '../store/open.js';
import type { ListFilter, Store } from '../store/store.js';
import { progress } from './progress.js';
import { databaseFrom } from './seed.js';
import { Failure, parse, UsageError } from './usage.js';

/** The commands that take data out of the database: export, erase, backup. */

const E164 = new RegExp(E164_PATTERN);

function checkedFrom(value: string): string {
  if (!E164.test(value))
    throw new UsageError(`--from must be E.164 (+ and 2 to 15 digits), not '${value}'`);
  return value;
}

async function open(option: string | undefined): Promise<Store> {
  const database = databaseFrom(option);
  try {
    return await openStore(database);
  } catch (error) {
    throw new Failure(`cannot open the database: ${(error as Error).message}`);
  }
}

/**
 * `export [--format ndjson|csv] [--from E164] [--since TS] [--q TEXT] [--output FILE]
 * [--database-url URL]`: what GET /messages/export answers, to FILE or standard output, with a
 * progress bar on a terminal.
 */
export async function runExport(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      format: { type: 'string' },
      from: { type: 'string' },
      since: { type: 'string' },
      q: { type: 'string' },
      output: { type: 'string' },
      'database-url': { type: 'string' },
    } as const,
    0,
  );
  const format = (values.format ?? 'ndjson') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) {
    throw new UsageError(`--format must be ndjson or csv, not '${values.format}'`);
  }
  if (values.since !== undefined && !isInstant(values.since)) {
    throw new UsageError(`--since must be YYYY-MM-DDTHH:MM:SS[.ffffff]Z, not '${values.since}'`);
  }
  const filter: ListFilter = {
    from: values.from === undefined || values.from === '' ? undefined : checkedFrom(values.from),
    since: values.since === undefined ? undefined : instantOf(values.since),
    q: values.q === undefined || values.q === '' ? undefined : fold(values.q),
  };
  const output = values.output;
  if (output === '')
    throw new UsageError('--output needs a file name (omit it for standard output)');
  const store = await open(values['database-url']);
  const partial = output === undefined ? null : `${output}.partial`;
  try {
    const bar = process.stderr.isTTY ? progress() : null;
    const total = bar === null ? null : (await store.list(filter, { limit: 1, offset: 0 })).total;
    const stream = await new ExportStream(store, filter, format, {
      onProgress: (rows) => bar?.update(rows, total, rows),
    }).start();
    await pipeline(stream, partial === null ? process.stdout : createWriteStream(partial));
    bar?.end();
    if (partial !== null && output !== undefined) renameSync(partial, output);
    return 0;
  } catch (error) {
    if (partial !== null) rmSync(partial, { force: true });
    throw new Failure(`export failed: ${(error as Error).message}`);
  } finally {
    await store.close();
  }
}

/** `erase (--from E164 | --id ID) [--database-url URL]`: what DELETE /messages… does. */
export async function runErase(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      from: { type: 'string' },
      id: { type: 'string' },
      'database-url': { type: 'string' },
    } as const,
    0,
  );
  if ((values.from === undefined) === (values.id === undefined)) {
    throw new UsageError('erase needs either --from E164 or --id ID');
  }
  if (values.id === '') throw new UsageError('--id needs a message_id');
  const target =
    values.from !== undefined
      ? { from: checkedFrom(values.from) }
      : { messageId: values.id as string };
  const store = await open(values['database-url']);
  try {
    const erased = await store.erase(target);
    process.stdout.write(`erased ${erased} message${erased === 1 ? '' : 's'}\n`);
    return 0;
  } catch (error) {
    throw new Failure(`the database failed: ${(error as Error).message}`);
  } finally {
    await store.close();
  }
}

/**
 * `backup FILE [--database-url URL]`: a consistent copy of the SQLite database through SQLite's
 * online backup, taken while the service keeps writing. It copies every page in one step on one
 * read snapshot (WAL: writers go on meanwhile), so it never restarts because the service wrote,
 * and holds everything committed before it began. The copy is written to FILE.partial, checked
 * with PRAGMA integrity_check, then renamed to FILE.
 */
export async function runBackup(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { 'database-url': { type: 'string' } } as const, 1);
  const file = positionals[0];
  if (file === undefined || file === '') throw new UsageError('backup needs a FILE to write');
  const database = databaseFrom(values['database-url']);
  if (database.kind !== 'sqlite') {
    throw new UsageError(
      'backup copies a SQLite database; for PostgreSQL use pg_dump (see the README)',
    );
  }
  if (database.path === ':memory:')
    throw new UsageError('an in-memory database has nothing to back up');
  if (!existsSync(database.path)) throw new Failure(`no database at ${database.path}`);
  if (existsSync(file)) throw new Failure(`${file} exists already: choose a new file`);
  const partial = `${file}.partial`;
  const started = performance.now();
  const source = new Database(database.path, {
    readonly: true,
    fileMustExist: true,
    timeout: 5000,
  });
  try {
    const { totalPages } = await source.backup(partial, { progress: () => 0x7fffffff });
    const copied = performance.now();
    const copy = new Database(partial);
    let integrity: string;
    try {
      integrity = copy.pragma('integrity_check', { simple: true }) as string;
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    if (integrity !== 'ok') throw new Failure(`the copy failed integrity_check: ${integrity}`);
    renameSync(partial, file);
    const seconds = (ms: number) => (ms / 1000).toFixed(2);
    process.stdout.write(
      `backed up ${totalPages} pages to ${file} in ${seconds(copied - started)} s; integrity_check ok (${seconds(performance.now() - copied)} s)\n`,
    );
    return 0;
  } catch (error) {
    rmSync(partial, { force: true });
    if (error instanceof Failure) throw error;
    throw new Failure(`backup failed: ${(error as Error).message}`);
  } finally {
    source.close();
  }
}
