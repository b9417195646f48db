import type { DeleteBatch } from '../delete-batch.js';
import type { SqliteDeleter } from './erase.js';
import type { SqliteStatusDeleter } from './sweep.js';
import type { SqliteWriter, WriteItem, WriteOutcome } from './writer.js';

/**
 * The writer's scheduling: writes first, and in the time the thread would otherwise sit idle,
 * steps of the search indexer and of retention sweeps.
 */

/** How long one step of a retention sweep may take: a write arriving meanwhile waits for it. */
const SWEEP_STEP_MS = 4;

/** After a step of a sweep, the thread rests from sweeping this many times as long... */
const SWEEP_REST_RATIO = 1;

/**
 * ...or this many times as long while writes are arriving (one in the last RECENT_WRITE_MS).
 * Deleting a row writes 4–5 pages to the log, at random places in the indexes, and the commits
 * that then checkpoint the log held acknowledgements up for about 110 ms once a second: on
 * 1,000,000 messages at 300 webhooks/s, ingest p99 went from 43–51 ms without a sweep to 128 ms
 * during one at 3,200–3,700 rows/s, 92 ms at 1,467 rows/s (ratio 4), 47.6 ms at 664 rows/s
 * (ratio 10), 34 ms at 305 rows/s (ratio 20). 664 rows/s is 57 million rows a day, and an idle
 * writer sweeps at the full pace.
 */
const SWEEP_REST_RATIO_UNDER_WRITES = 10;

/** A write this recent makes a sweep rest SWEEP_REST_RATIO_UNDER_WRITES times its steps. */
const RECENT_WRITE_MS = 1000;

interface PendingSweep {
  batch: DeleteBatch;
  /** deleted so far, in earlier steps */
  deleted: number;
  resolve(deleted: number): void;
  reject(error: unknown): void;
}

/** How long one step of the search indexer may take: a write arriving meanwhile waits for it. */
const INDEX_STEP_MS = 5;

/**
 * Writes batches, and keeps the search index caught up in the time the thread would otherwise
 * sit idle: after a write, a step of indexing (about INDEX_STEP_MS, one transaction) runs only
 * if no other write arrived meanwhile (setImmediate runs after pending messages), and steps go on
 * until the index is complete or writes come in again. Indexing a message costs several times
 * more than storing it, so under a sustained burst the index falls behind and searches check the
 * newest messages one by one until it catches up; no acknowledgement waits for the index.
 */
export class IndexingWriter {
  /** the measured cost of indexing one message, in ms (moving average) */
  private msPerRow = 0.1;
  /** bumped by every write: a step scheduled before it is dropped */
  private generation = 0;
  private stopped = false;
  /** the measured cost of deleting one message in a sweep, in ms (moving average) */
  private msPerSweptRow = 0.5;
  private readonly sweeps: PendingSweep[] = [];
  /** when the last write came (performance.now()) */
  private lastWrite = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly writer: SqliteWriter,
    private readonly deleter: SqliteDeleter,
    private readonly statusDeleter: SqliteStatusDeleter,
  ) {
    this.schedule();
  }

  /** Deletes one batch of messages (an erasure) now, in its own transaction; how many went. */
  delete(batch: DeleteBatch): number {
    this.generation++;
    try {
      return this.deleter.delete(batch);
    } finally {
      this.schedule();
    }
  }

  /**
   * Deletes up to batch.limit rows of a retention sweep in the thread's idle time, like the
   * indexer: in steps of at most SWEEP_STEP_MS, each its own transaction, with a rest as long
   * after each (ten times as long while writes arrive). Resolves with how many went (0: nothing
   * left to sweep).
   */
  sweepWhenIdle(batch: DeleteBatch): Promise<number> {
    return new Promise((resolve, reject) => {
      this.sweeps.push({ batch, deleted: 0, resolve, reject });
      this.schedule();
    });
  }

  write(items: WriteItem[]): WriteOutcome[] {
    this.generation++;
    this.lastWrite = performance.now();
    try {
      return this.writer.write(items);
    } finally {
      this.schedule();
    }
  }

  stop(): void {
    this.stopped = true;
    for (const sweep of this.sweeps.splice(0)) sweep.reject(new Error('the writer is closing'));
  }

  private schedule(): void {
    const generation = this.generation;
    setImmediate(() => this.step(generation));
  }

  private step(generation: number): void {
    if (this.stopped || generation !== this.generation) return;
    const sweep = this.sweeps.shift();
    if (sweep !== undefined) {
      this.sweepStep(sweep);
      return;
    }
    const limit = Math.max(4, Math.floor(INDEX_STEP_MS / this.msPerRow));
    const started = performance.now();
    let indexed: number;
    try {
      indexed = this.writer.indexAlone(limit);
    } catch {
      return; // locked by another process, or failing: tried again after the next write
    }
    if (indexed >= 4) {
      this.msPerRow = 0.7 * this.msPerRow + (0.3 * (performance.now() - started)) / indexed;
    }
    if (indexed === limit) this.schedule();
  }

  /**
   * One step of the sweep batch first in line: at most SWEEP_STEP_MS of deleting, in its own
   * transaction. The batch is answered once it reached its limit or found nothing more; else
   * it stays first in line for the next idle step.
   */
  private sweepStep(sweep: PendingSweep): void {
    const { batch } = sweep;
    const budget = Math.max(1, Math.floor(SWEEP_STEP_MS / this.msPerSweptRow));
    const limit = Math.min(batch.limit - sweep.deleted, budget);
    const started = performance.now();
    let deleted: number;
    try {
      const { target } = batch;
      deleted =
        target.kind === 'statuses-received-before'
          ? this.statusDeleter.delete(target.before, limit)
          : this.deleter.delete({ ...batch, limit });
    } catch (error) {
      sweep.reject(error);
      this.schedule();
      return;
    }
    // every step that deleted anything counts: counting only larger ones would leave a budget
    // once shrunk by one slow step (a merge, the machine busy) below them, shrunk for good
    if (deleted > 0) {
      const perRow = (performance.now() - started) / deleted;
      this.msPerSweptRow = 0.7 * this.msPerSweptRow + 0.3 * perRow;
    }
    sweep.deleted += deleted;
    if (deleted < limit || sweep.deleted >= batch.limit) sweep.resolve(sweep.deleted);
    else {
      const now = performance.now();
      const writing = now - this.lastWrite < RECENT_WRITE_MS;
      this.rest(
        sweep,
        (now - started) * (writing ? SWEEP_REST_RATIO_UNDER_WRITES : SWEEP_REST_RATIO),
      );
    }
    this.schedule(); // indexing, when still idle
  }

  /**
   * Puts `sweep` back in line after `ms`: a sweep takes at most about half of this thread's
   * time when it is otherwise idle, and a tenth while writes arrive, so that it never crowds out
   * the writes, the readers or the machine's other work.
   */
  private rest(sweep: PendingSweep, ms: number): void {
    setTimeout(() => {
      if (this.stopped) {
        sweep.reject(new Error('the writer is closing'));
        return;
      }
      this.sweeps.unshift(sweep);
      this.schedule();
    }, ms);
  }
}
