import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from './store.js';

/**
 * A worker thread of the SQLite store (the writer, or a reader), asked questions and awaited by
 * id. Requests are `{ type, id, ... }`; the thread answers each with a ThreadReply and exits
 * after `{ type: 'close' }`. A thread that dies is started again on the next request; what it
 * was asked fails with a 503, which is safe to retry.
 */

export type ThreadReply<T> =
  | { id: number; ok: true; value: T }
  | { id: number; ok: false; error: { code?: string; message: string } };

/** How a thread describes an error it caught, keeping SQLite's code for the 503 mapping. */
export function describeError(error: unknown): { code?: string; message: string } {
  const code = (error as { code?: unknown }).code;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    message: error instanceof Error ? error.message : String(error),
  };
}

function rebuild(error: { code?: string; message: string }): Error {
  return Object.assign(
    new Error(error.message),
    error.code === undefined ? {} : { code: error.code },
  );
}

/**
 * The thread's code: the compiled file beside this one, or, when this runs from TypeScript
 * source (tests, `npm run dev`), a stub that loads the source through tsx, whose loader hooks a
 * worker does not inherit on Node 20.
 */
function workerScript(name: string): { script: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { script: new URL(`./${name}.js`, import.meta.url), eval: false };
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const source = JSON.stringify(new URL(`./${name}.ts`, import.meta.url).href);
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

  /** `name`: the module of the thread's code, beside this one; `data`: its workerData. */
  constructor(
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
    const { script, eval: isCode } = workerScript(this.name);
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
