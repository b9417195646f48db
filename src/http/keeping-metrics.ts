import { Counter, Gauge, type Registry } from 'prom-client';

/** The metrics of erasure and retention. */
export interface KeepingMetrics {
  /** Messages erased on request (DELETE /messages…). */
  countErased(count: number): void;
  /** A retention sweep that finished (`at`: when, in unix seconds). */
  recordSweep(deleted: { messages: number; statuses: number }, at: number): void;
}

export function createKeepingMetrics(registry: Registry): KeepingMetrics {
  const erased = new Counter({
    name: 'messages_erased_total',
    help: 'Messages erased on request (DELETE /messages), each leaving a tombstone of its id',
    registers: [registry],
  });
  const swept = new Counter({
    name: 'retention_deleted_total',
    help: 'Rows deleted by retention sweeps (RETENTION_DAYS), by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  swept.labels('messages').inc(0);
  swept.labels('statuses').inc(0);
  const last = new Gauge({
    name: 'retention_last_sweep_timestamp_seconds',
    help: 'When the last retention sweep of this process finished (unix seconds; 0: none yet)',
    registers: [registry],
  });
  last.set(0);
  return {
    countErased(count) {
      if (count > 0) erased.inc(count);
    },
    recordSweep(deleted, at) {
      if (deleted.messages > 0) swept.labels('messages').inc(deleted.messages);
      if (deleted.statuses > 0) swept.labels('statuses').inc(deleted.statuses);
      last.set(at);
    },
  };
}
