/**
 * Group commit, as both stores do it. Items pushed during one turn of the event loop are written
 * as one batch at the end of that turn. While `maxInFlight` batches are already on their way,
 * new items keep gathering into the next batch, which starts the moment one of those finishes:
 * the more the database lags, the larger and cheaper per item its batches become, and no item
 * ever waits for a timer.
 *
 * `write` gets the items of a batch and resolves with an outcome per item, in order, only once
 * the batch is committed; each caller then gets its own outcome. When it rejects, every item of
 * the batch is rejected with that error.
 */
export interface BatchQueueOptions<T, R> {
  write(items: T[]): Promise<R[]>;
  /** batches written at once, at most */
  maxInFlight: number;
  /** items in one batch, at most (a longer queue is split); default: no limit */
  maxBatch?: number;
}

interface Waiting<T, R> {
  item: T;
  resolve: (outcome: R) => void;
  reject: (error: unknown) => void;
}

export class BatchQueue<T, R> {
  private pending: Waiting<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void) | null = null;

  constructor(private readonly options: BatchQueueOptions<T, R>) {}

  push(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Resolves once every item pushed so far is written (or failed). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        this.flush();
      });
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const { maxInFlight, maxBatch = Number.POSITIVE_INFINITY } = this.options;
    while (this.pending.length > 0 && this.inFlight < maxInFlight) {
      const batch = this.pending.splice(0, maxBatch);
      this.inFlight++;
      this.options
        .write(batch.map((waiting) => waiting.item))
        .then(
          (outcomes) => {
            for (const [i, waiting] of batch.entries()) waiting.resolve(outcomes[i] as R);
          },
          (error: unknown) => {
            for (const waiting of batch) waiting.reject(error);
          },
        )
        .finally(() => this.written());
    }
  };

  private written(): void {
    this.inFlight--;
    if (this.pending.length > 0) this.flush();
    else if (this.inFlight === 0 && this.idle !== null) {
      const idle = this.idle;
      this.idle = null;
      idle();
    }
  }
}
