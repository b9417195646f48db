import type { StoreLogger } from '../store.js';
import { describeError, isUnavailable } from './errors.js';

/** Migration retries while the database is unreachable: first wait, and the cap. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * The start-up of a PostgreSQL store: migrate until the schema is applied or the store closes,
 * waiting between failed attempts (doubling, capped). The process starts even when the database
 * is unreachable: requests are refused meanwhile (see `migrated` and `failure`), and the store
 * becomes ready by itself once an attempt succeeds.
 */
export class StartUp {
  /** whether the schema is known to be applied; until then requests are refused at once */
  migrated = false;
  /** why the last migration attempt failed */
  failure = 'not attempted yet';

  /**
   * Settles after the first attempt, or after `timeoutMs` if that takes longer (a replica
   * waiting for another's long migration still starts serving: live, and 503 until ready):
   * resolved when it succeeded or the database was unavailable (attempts then go on in the
   * background), rejected when it failed for a reason retrying cannot fix.
   */
  readonly started: Promise<void>;
  private readonly running: Promise<void>;
  private stopped = false;
  /** ends the current wait between attempts early */
  private wake: (() => void) | null = null;

  constructor(
    private readonly attempt: () => Promise<void>,
    private readonly logger: StoreLogger,
    timeoutMs: number,
  ) {
    const started = new Outcome();
    this.started = started.promise;
    // openStore awaits it; a caller that does not must not see an unhandled rejection
    this.started.catch(() => undefined);
    this.running = this.keepMigrating(started, timeoutMs);
  }

  /** The database answers again: no need to wait out the backoff. */
  retryNow(): void {
    if (!this.migrated) this.wake?.();
  }

  /** Stops retrying; resolves once no attempt is running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    await this.started.catch(() => undefined);
  }

  private async keepMigrating(started: Outcome, timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => started.settle(), timeoutMs);
    timer.unref();
    let delay = FIRST_RETRY_MS;
    for (let attempt = 1; !this.stopped && !this.migrated; attempt++) {
      try {
        await this.attempt();
        this.migrated = true;
        break;
      } catch (error) {
        this.failure = describeError(error);
        // a first failure that retrying cannot fix (a migration the server rejects) stops the start
        if (!started.settled && !isUnavailable(error)) {
          clearTimeout(timer);
          started.settle(error);
          return;
        }
        const fields = { error: this.failure, attempt, retry_in_ms: delay };
        if (!isUnavailable(error)) this.logger.error(fields, 'database schema migration failed');
        else if (attempt === 1) {
          this.logger.warn(fields, 'database unavailable: serving 503 and retrying the migration');
        } else this.logger.warn(fields, 'database still unavailable');
        started.settle();
        await this.pause(delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
    clearTimeout(timer);
    started.settle();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // a store waiting to retry must not keep a finished process alive
      timer.unref();
      this.wake = done;
    });
  }
}

/** A promise settled once, by whoever comes first; later calls do nothing. */
class Outcome {
  settled = false;
  readonly promise: Promise<void>;
  private resolve: () => void = () => undefined;
  private reject: (error: unknown) => void = () => undefined;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  settle(error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (error === undefined) this.resolve();
    else this.reject(error);
  }
}
