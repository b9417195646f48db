import type { KeepingMetrics } from './http/keeping-metrics.js';
import type { Logger } from './logger.js';
import { secondsOf } from './store/records.js';
import type { Store } from './store/store.js';

/**
 * RETENTION_DAYS: a background loop that sweeps, every interval, the messages and statuses
 * received more than `days` days ago (Store.sweep: small batches, each its own transaction,
 * so acknowledgements never wait long). One log line per sweep; the metrics count what went.
 * A sweep that fails is logged and tried again at the next interval.
 */

export interface RetentionOptions {
  store: Store;
  days: number;
  intervalMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
  metrics: KeepingMetrics;
  /** the clock (tests move it) */
  now?: () => Date;
  /** pause between two batches of a sweep */
  pauseMs?: number;
}

const MS_PER_DAY = 86_400_000;

/** The first sweep runs this long after the start, so that it never slows a start-up. */
const FIRST_SWEEP_DELAY_MS = 5000;

export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: RetentionOptions) {}

  /** Sweeps after `firstDelayMs` (default: FIRST_SWEEP_DELAY_MS, or the interval if shorter). */
  start(firstDelayMs?: number): void {
    this.schedule(firstDelayMs ?? Math.min(FIRST_SWEEP_DELAY_MS, this.options.intervalMs));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce().finally(() => {
        this.running = null;
        this.schedule(this.options.intervalMs);
      });
    }, ms);
    this.timer.unref();
  }

  /** One sweep now: deletes what was received before the cut-off, and logs one line. */
  async sweepOnce(): Promise<void> {
    const { store, days, logger, metrics } = this.options;
    const now = this.options.now?.() ?? new Date();
    const before = secondsOf(new Date(now.getTime() - days * MS_PER_DAY));
    const started = performance.now();
    try {
      const result = await store.sweep(before, {
        pauseMs: this.options.pauseMs,
        stopping: () => this.stopped,
      });
      const duration_ms = Math.round(performance.now() - started);
      if (result === null) {
        logger.info(
          { retention_days: days, before },
          'retention sweep skipped: another process is sweeping',
        );
        return;
      }
      metrics.recordSweep(result, Date.now() / 1000);
      logger.info(
        {
          retention_days: days,
          before,
          deleted_messages: result.messages,
          deleted_statuses: result.statuses,
          duration_ms,
        },
        'retention sweep',
      );
    } catch (error) {
      logger.warn(
        { retention_days: days, before, error: (error as Error).message },
        'retention sweep failed: retried at the next interval',
      );
    }
  }

  /** Stops the loop; resolves once a sweep in progress has finished its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.running;
  }
}
