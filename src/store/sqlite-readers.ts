import type Database from 'better-sqlite3';
import { SqliteReader } from './sqlite-reader.js';
import { Thread } from './sqlite-thread.js';
import type { ListFilter, MessagePage, Page, Stats } from './store.js';

export type ReadRequest = { type: 'list'; filter: ListFilter; page: Page } | { type: 'stats' };

type Answer<R extends ReadRequest> = R extends { type: 'list' } ? MessagePage : Stats;

/** Where a SqliteStore sends its queries. */
export interface Readers {
  read<R extends ReadRequest>(request: R): Promise<Answer<R>>;
  close(): Promise<void>;
}

/** Reads on the calling thread, through the store's own connection (`:memory:`). */
export class InlineReaders implements Readers {
  private readonly reader: SqliteReader;

  constructor(db: Database.Database) {
    this.reader = new SqliteReader(db);
  }

  async read<R extends ReadRequest>(request: R): Promise<Answer<R>> {
    const r = request as ReadRequest;
    return (
      r.type === 'list' ? this.reader.list(r.filter, r.page) : this.reader.stats()
    ) as Answer<R>;
  }

  async close(): Promise<void> {}
}

/**
 * A few reader threads, each with a connection of its own (WAL: readers never wait for the
 * writer). A query goes to the thread with the fewest queries waiting, so a long search and a
 * quick page run side by side instead of one after the other.
 */
export class ThreadReaders implements Readers {
  private readonly threads: Thread[];

  constructor(path: string, count: number) {
    this.threads = Array.from(
      { length: count },
      () => new Thread('sqlite-reader-worker', { path }),
    );
  }

  read<R extends ReadRequest>(request: R): Promise<Answer<R>> {
    let thread = this.threads[0] as Thread;
    for (const candidate of this.threads) if (candidate.busy < thread.busy) thread = candidate;
    return thread.request<Answer<R>>(request);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
  }
}
