import type Database from 'better-sqlite3';
import type {
  DayCount,
  ListFilter,
  MessagePage,
  MessageRecord,
  Page,
  Stats,
  StatusFilter,
  StatusPage,
  StatusPageRequest,
  StatusStats,
} from '../store.js';
import { SqliteReader } from './reader.js';
import { Thread, threadModule } from './thread.js';

/** A reader thread's code. */
const READER_THREAD = threadModule(import.meta.resolve('./reader-thread.js'));

export type ReadRequest =
  | { type: 'list'; filter: ListFilter; page: Page }
  | { type: 'stats' }
  | { type: 'get'; messageId: string }
  | { type: 'statuses'; filter: StatusFilter; page: StatusPageRequest }
  | { type: 'statusStats' }
  | { type: 'daily'; days: number; from?: string };

interface Answers {
  list: MessagePage;
  stats: Stats;
  get: MessageRecord | null;
  statuses: StatusPage;
  statusStats: StatusStats;
  daily: DayCount[];
}

type Answer<R extends ReadRequest> = Answers[R['type']];

/** Answers a read request on `reader`; the reader threads and InlineReaders both use it. */
export function answer(reader: SqliteReader, request: ReadRequest): Answers[keyof Answers] {
  switch (request.type) {
    case 'list':
      return reader.list(request.filter, request.page);
    case 'stats':
      return reader.stats();
    case 'get':
      return reader.get(request.messageId);
    case 'statuses':
      return reader.listStatuses(request.filter, request.page);
    case 'statusStats':
      return reader.statusStats();
    case 'daily':
      return reader.dailyCounts(request.days, request.from);
  }
}

/** Where a SqliteStore sends its queries. */
export interface ReaderChannel {
  read<R extends ReadRequest>(request: R): Promise<Answer<R>>;
  close(): Promise<void>;
}

/** Reads on the calling thread, through the store's own connection (`:memory:`). */
export class InlineReaders implements ReaderChannel {
  private readonly reader: SqliteReader;

  constructor(db: Database.Database) {
    this.reader = new SqliteReader(db);
  }

  async read<R extends ReadRequest>(request: R): Promise<Answer<R>> {
    return answer(this.reader, request) as Answer<R>;
  }

  async close(): Promise<void> {}
}

/**
 * A few reader threads, each with a connection of its own (WAL: readers never wait for the
 * writer). A query goes to the thread with the fewest queries waiting, so a long search and a
 * quick page run side by side instead of one after the other.
 */
export class ThreadReaders implements ReaderChannel {
  private readonly threads: Thread[];

  constructor(path: string, count: number) {
    this.threads = Array.from(
      { length: count },
      (_, i) => new Thread(READER_THREAD, `reader ${i + 1}`, { path }),
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
