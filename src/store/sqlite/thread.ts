import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../store.js';

/**
 * A worker thread of the SQLite store (the writer, or a reader), asked questions and awaited by
 * id. Requests are `{ type, id, ... }`; the thread answers each with a ThreadReply and exits
 * after `{ type: 'close' }`. A thread that dies is started again on the next request; what it
 * was asked fails with a 503, which is safe to retry.
 */

export type ThreadReply<T> =
  | { id: number; ok: true; value: T }
  | { id: number; ok: false; error: TransferredError };

/** An error a thread caught, as it crosses to the store: SQLite's code kept for the 503 mapping. */
export type TransferredError = { code?: string; message: string };

export function transferableError(error: unknown): TransferredError {
  const code = (error as { code?: unknown }).code;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    message: error instanceof Error ? error.message : String(error),
  };
}

function rebuild(error: TransferredError): Error {
  return Object.assign(
    new Error(error.message),
    error.code === undefined ? {} : { code: error.code },
  );
}

/**
 * The module a thread runs, as a resolved URL: `import.meta.resolve('./writer-thread.js')` names
 * the compiled file, or the TypeScript source when running under tsx (tests, `npm run dev`). It
 * is checked when the module naming it loads, so that a renamed file fails at once, loudly.
 */
export function threadModule(url: string): URL {
  const resolved = new URL(url);
  if (!existsSync(fileURLToPath(resolved))) {
    throw new Error(`the thread module ${resolved.pathname} does not exist`);
  }
  return resolved;
}

/**
 * How to start a thread on `module`: directly when it is compiled JavaScript; from TypeScript
 * source, through a stub that loads it with tsx, whose loader hooks a worker does not inherit on
 * Node 20.
 */
function workerScript(module: URL): { script: string | URL; eval: boolean } {
  if (!module.pathname.endsWith('.ts')) return { script: module, eval: false };
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const source = JSON.stringify(module.href);
  return {
    script: `import(${tsx}).then((tsx) => { tsx.register(); return import(${source}); })`,
    eval: true,
  };
}

export class Thread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: unknown) => void }
  >();
  private closed: Promise<void> | null = null;

  /** `module`: the thread's code (see threadModule); `name`: for errors; `data`: its workerData. */
  constructor(
    private readonly module: URL,
    private readonly name: string,
    private readonly data: unknown,
  ) {
    this.start();
  }

  /** Requests waiting for an answer. */
  get busy(): number {
    return this.waiting.size;
  }

  private start(): Worker {
    const { script, eval: isCode } = workerScript(this.module);
    const worker = new Worker(script, {
      eval: isCode,
      workerData: this.data,
      // a store thread holds little but SQLite's page cache: a small heap keeps the RSS down
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 },
    });
    // an idle thread does not keep the process alive; one with questions out does
    worker.unref();
    worker.on('message', (reply: ThreadReply<unknown>) => {
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(rebuild(reply.error ?? { message: `malformed answer from ${this.name}` }));
    });
    const fail = (reason: string) => {
      if (this.worker === worker) this.worker = null;
      for (const waiter of this.waiting.values()) {
        waiter.reject(new StoreUnavailableError(`the ${this.name} thread stopped: ${reason}`));
      }
      this.waiting.clear();
    };
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  request<T>(message: { type: string; [field: string]: unknown }): Promise<T> {
    if (this.closed !== null) return Promise.reject(new StoreUnavailableError('store is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.ref();
      worker.postMessage({ ...message, id });
    });
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      const worker = this.worker;
      if (worker === null) return resolve();
      worker.ref();
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' });
    });
    return this.closed;
  }
}
