import type Database from 'better-sqlite3';
import type { Position } from '../../cursor.js';
import type { KeptCount } from '../count-cache.js';
import { jsonPageOf } from '../json-page.js';
import type {
  DayCount,
  JsonPage,
  ListFilter,
  MessageRecord,
  Page,
  Stats,
  StatusFilter,
  StatusPage,
  StatusPageRequest,
  StatusStats,
  StoredMessage,
} from '../store.js';
import { type ListAnswer, SqliteReader } from './reader.js';
import { Thread, threadModule } from './thread.js';

/** A reader thread's code. */
const READER_THREAD = threadModule(import.meta.resolve('./reader-thread.js'));

export type ReadRequest =
  | { type: 'list'; filter: ListFilter; page: Page; kept?: KeptCount<number> }
  | { type: 'listJson'; filter: ListFilter; page: Page; kept?: KeptCount<number> }
  | { type: 'scan'; filter: ListFilter; after: Position | undefined; limit: number }
  | { type: 'stats' }
  | { type: 'get'; messageId: string }
  | { type: 'statuses'; filter: StatusFilter; page: StatusPageRequest }
  | { type: 'statusStats' }
  | { type: 'daily'; days: number; from?: string };

interface Answers {
  list: ListAnswer;
  listJson: JsonPage & { kept?: KeptCount<number> };
  scan: StoredMessage[];
  stats: Stats;
  get: MessageRecord | null;
  statuses: StatusPage;
  statusStats: StatusStats;
  daily: DayCount[];
}

type Answer<R extends ReadRequest> = Answers[R['type']];

/**
 * How long a query may take: a 'heavy' one counts a search from scratch (tens of milliseconds
 * on a million messages) or checks rows one by one; every other one reads a few index pages.
 */
export type Lane = 'light' | 'heavy';

/** Answers a read request on `reader`; the reader threads and InlineReaders both use it. */
export function answer(reader: SqliteReader, request: ReadRequest): Answers[keyof Answers] {
  switch (request.type) {
    case 'list':
      return reader.list(request.filter, request.page, request.kept);
    case 'listJson': {
      // serialized here, in the reader thread: the HTTP thread gets one string, not 50 objects
      const { kept, ...page } = reader.list(request.filter, request.page, request.kept);
      return kept === undefined ? jsonPageOf(page) : { ...jsonPageOf(page), kept };
    }
    case 'scan':
      return reader.scan(request.filter, request.after, request.limit);
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
  read<R extends ReadRequest>(request: R, lane: Lane): Promise<Answer<R>>;
  close(): Promise<void>;
}

/** Reads on the calling thread, through the store's own connection (`:memory:`). */
export class InlineReaders implements ReaderChannel {
  private readonly reader: SqliteReader;

  constructor(db: Database.Database) {
    this.reader = new SqliteReader(db);
  }

  async read<R extends ReadRequest>(request: R, _lane: Lane): Promise<Answer<R>> {
    return answer(this.reader, request) as Answer<R>;
  }

  async close(): Promise<void> {}
}

/**
 * Reader threads, each with a connection of its own (WAL: readers never wait for the writer), in
 * two lanes so that a quick read never queues behind a long one: heavy queries go to the heavy
 * threads only; a light query goes to the least busy light thread, or to an idle heavy one when
 * every light thread has a queue.
 */
export class ThreadReaders implements ReaderChannel {
  private readonly light: Thread[];
  private readonly heavy: Thread[];

  constructor(path: string, lanes: { light: number; heavy: number }) {
    const start = (lane: string, i: number) =>
      new Thread(READER_THREAD, `${lane} reader ${i + 1}`, { path });
    this.light = Array.from({ length: lanes.light }, (_, i) => start('light', i));
    this.heavy = Array.from({ length: lanes.heavy }, (_, i) => start('heavy', i));
  }

  read<R extends ReadRequest>(request: R, lane: Lane): Promise<Answer<R>> {
    let thread = leastBusy(lane === 'heavy' ? this.heavy : this.light);
    if (lane === 'light' && thread.busy > 0) {
      const idle = this.heavy.find((candidate) => candidate.busy === 0);
      if (idle !== undefined) thread = idle;
    }
    return thread.request<Answer<R>>(request);
  }

  async close(): Promise<void> {
    await Promise.all([...this.light, ...this.heavy].map((thread) => thread.close()));
  }
}

function leastBusy(threads: Thread[]): Thread {
  let thread = threads[0] as Thread;
  for (const candidate of threads) if (candidate.busy < thread.busy) thread = candidate;
  return thread;
}
