import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { WorkerReply, WorkerRequest } from './sqlite-worker.js';
import { IndexingWriter, type Row, SqliteWriter } from './sqlite-writer.js';
import { type InsertOutcome, StoreUnavailableError } from './store.js';

/** Where a SqliteStore sends its insert batches. */
export interface WriterChannel {
  /** Commits `rows`; resolves with an outcome per row once the batch is on disk. */
  write(rows: Row[]): Promise<InsertOutcome[]>;
  close(): Promise<void>;
}

/** Writes on the calling thread, through the store's own connection (`:memory:`). */
export class InlineWriter implements WriterChannel {
  private readonly writer: IndexingWriter;

  constructor(db: Database.Database) {
    this.writer = new IndexingWriter(new SqliteWriter(db));
  }

  async write(rows: Row[]): Promise<InsertOutcome[]> {
    return this.writer.write(rows);
  }

  async close(): Promise<void> {
    this.writer.stop();
  }
}

/**
 * The worker's code: the compiled file beside this one, or, when this runs from TypeScript
 * source (tests, `npm run dev`), a stub that loads the source through tsx, whose loader hooks
 * a worker does not inherit on Node 20.
 */
function workerScript(): { script: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { script: new URL('./sqlite-worker.js', import.meta.url), eval: false };
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const source = JSON.stringify(new URL('./sqlite-worker.ts', import.meta.url).href);
  return {
    script: `import(${tsx}).then((tsx) => { tsx.register(); return import(${source}); })`,
    eval: true,
  };
}

/** An error thrown in the writer thread, rebuilt with its SQLite code. */
function rebuild(error: { code?: string; message: string }): Error {
  return Object.assign(
    new Error(error.message),
    error.code === undefined ? {} : { code: error.code },
  );
}

/**
 * Writes in a worker thread with a connection of its own (sqlite-worker.ts). The thread is
 * started again if it ever dies; a batch it was writing then fails with a 503, which is safe to
 * retry (a message that did get committed is then acknowledged as a duplicate).
 */
export class WorkerWriter implements WriterChannel {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (outcomes: InsertOutcome[]) => void; reject: (error: unknown) => void }
  >();
  private closed: Promise<void> | null = null;

  constructor(private readonly path: string) {
    this.start();
  }

  private start(): Worker {
    const { script, eval: isCode } = workerScript();
    const worker = new Worker(script, { eval: isCode, workerData: { path: this.path } });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'closed') return;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.type === 'written') waiter?.resolve(reply.outcomes);
      else waiter?.reject(rebuild(reply.error));
    });
    const fail = (reason: string) => {
      if (this.worker === worker) this.worker = null;
      for (const waiter of this.waiting.values()) {
        waiter.reject(new StoreUnavailableError(`the writer thread stopped: ${reason}`));
      }
      this.waiting.clear();
    };
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  write(rows: Row[]): Promise<InsertOutcome[]> {
    if (this.closed !== null) return Promise.reject(new StoreUnavailableError('store is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // keep the process alive while a batch is out: its caller is waiting for the answer
      worker.ref();
      worker.postMessage({ type: 'write', id, rows } satisfies WorkerRequest);
    });
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      const worker = this.worker;
      if (worker === null) return resolve();
      worker.ref();
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    });
    return this.closed;
  }
}
