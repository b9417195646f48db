import type { ListFilter } from './store.js';

/**
 * Exact totals of searches (`q`), kept instead of counted again on every page.
 *
 * Messages are only ever added, except by deletions (retention, erasure), and every transaction
 * that deletes increments the database's change epoch. A total counted once for a filter is kept
 * with the epoch and the watermark of the data it counted, all read in the snapshot it was
 * counted in. While the epoch is unchanged, the total now is the kept one plus the matching rows
 * the watermark does not cover: only those are counted. Once the epoch moved, it is counted from
 * scratch. What a watermark is depends on the database: SQLite's is the highest seq (one writer,
 * seq only grows between deletions); PostgreSQL's is the snapshot itself (see postgres/count.ts).
 *
 * The cache lives in the process's main thread, so that the store can send each query to a
 * lane by whether its total is kept (cheap) or must be counted (expensive).
 */
export interface KeptCount<W> {
  /** the change epoch the count was made at */
  epoch: number;
  /** what the count covers, in the database's terms */
  watermark: W;
  count: number;
}

/**
 * A search counted from scratch over one sender's messages is light (served beside pages, not
 * queued with the other counts) when the kept totals say the sender has at most this many: a
 * few milliseconds at most. Busier senders, and searches over every sender, are heavy.
 */
export const LIGHT_SENDER_ROWS = 2_000;

/** Filters whose totals are kept at most; the least recently used one is dropped. */
export const KEPT_FILTERS = 4096;

/** The cache key of a filter: every field, so two filters share a total only when equal. */
export function filterKey(filter: ListFilter): string {
  return JSON.stringify([filter.from ?? null, filter.since?.toString() ?? null, filter.q ?? null]);
}

export class CountCache<W> {
  private readonly entries = new Map<string, KeptCount<W>>();
  private readonly counting = new Map<string, Promise<unknown>>();

  constructor(private readonly capacity = KEPT_FILTERS) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): KeptCount<W> | undefined {
    const kept = this.entries.get(key);
    if (kept !== undefined) {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, kept);
    }
    return kept;
  }

  /**
   * Keeps `count` for `key`. Of two answers racing for one key either is exact for its own
   * watermark; the later epoch, then the larger count, is kept (counts only grow within an epoch).
   */
  set(key: string, kept: KeptCount<W>): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      if (old.epoch > kept.epoch || (old.epoch === kept.epoch && old.count > kept.count)) {
        this.entries.set(key, old);
        return;
      }
    }
    this.entries.set(key, kept);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  /**
   * Runs `read` with the total kept for `key`. A read that would count from scratch while another
   * one already counts the same filter waits for that count instead and tops it up: fifty clients
   * asking for one new word cost one count, not fifty. `read` gets the kept total (undefined: it
   * must count) and says what to keep.
   */
  async read<T extends { kept?: KeptCount<W> }>(
    key: string,
    read: (kept: KeptCount<W> | undefined) => Promise<T>,
  ): Promise<T> {
    let kept = this.get(key);
    const other = kept === undefined ? this.counting.get(key) : undefined;
    if (other !== undefined) {
      await other.catch(() => undefined);
      kept = this.get(key);
    }
    const answer = read(kept);
    if (kept === undefined) {
      this.counting.set(key, answer);
      answer.then(
        () => this.counting.get(key) === answer && this.counting.delete(key),
        () => this.counting.get(key) === answer && this.counting.delete(key),
      );
    }
    const value = await answer;
    if (value.kept !== undefined) this.set(key, value.kept);
    return value;
  }
}

/**
 * A total counted in one snapshot: `epoch` and `watermark` are read in that snapshot. `all`
 * counts every matching row there, `after` only those the watermark `kept` covered does not.
 */
export function topUp<W>(
  kept: KeptCount<W> | undefined,
  now: { epoch: number; watermark: W },
  count: { all(): number; after(watermark: W): number },
): KeptCount<W> & { counted: 'kept' | 'all' } {
  if (kept !== undefined && kept.epoch === now.epoch) {
    return { ...now, count: kept.count + count.after(kept.watermark), counted: 'kept' };
  }
  return { ...now, count: count.all(), counted: 'all' };
}
