/**
 * One batch of a delete (erasure or retention), as both stores run it: one transaction that
 * removes at most `limit` messages and their share of every kept total.
 */

/** Which messages (or, for `statuses-received-before`, delivery statuses) a batch takes. */
export type DeleteTarget =
  | { kind: 'id'; messageId: string }
  | { kind: 'sender'; from: string }
  | { kind: 'received-before'; before: string }
  | { kind: 'statuses-received-before'; before: string };

export interface DeleteBatch {
  target: DeleteTarget;
  /** most rows deleted by this batch */
  limit: number;
  /** leave a tombstone of each deleted id, so that a redelivery stores nothing (erasure) */
  tombstone: boolean;
}

/** Whether `batch` belongs to a retention sweep (run in idle time), not to an erasure. */
export function isSweep(batch: DeleteBatch): boolean {
  return (
    batch.target.kind === 'received-before' || batch.target.kind === 'statuses-received-before'
  );
}

/** What one retention sweep deleted. */
export interface SweepResult {
  messages: number;
  statuses: number;
}

export interface SweepOptions {
  /** most rows one transaction deletes (default SWEEP_BATCH) */
  batch?: number;
  /** pause between two batches, so that the writes waiting get the database (default 0) */
  pauseMs?: number;
  /** asked between batches: true ends the sweep early (the service is stopping) */
  stopping?: () => boolean;
}

/** Rows per retention transaction by default: a few milliseconds of work. */
export const SWEEP_BATCH = 200;

/**
 * Runs the batches of a sweep of everything received before `before` through `run` (one
 * transaction each): messages, then statuses, each until a batch deletes nothing (a store may
 * delete fewer than the limit in a batch, to keep each one short).
 */
export async function sweepInBatches(
  run: (batch: DeleteBatch) => Promise<number>,
  before: string,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const limit = options.batch ?? SWEEP_BATCH;
  const pause = () =>
    new Promise<void>((resolve) =>
      options.pauseMs ? setTimeout(resolve, options.pauseMs) : setImmediate(resolve),
    );
  const result: SweepResult = { messages: 0, statuses: 0 };
  for (const [kind, key] of [
    ['received-before', 'messages'],
    ['statuses-received-before', 'statuses'],
  ] as const) {
    for (;;) {
      const deleted = await run({ target: { kind, before }, limit, tombstone: false });
      result[key] += deleted;
      if (deleted === 0 || options.stopping?.() === true) break;
      await pause();
    }
  }
  return result;
}

/** The distinct error codes of a failed status's errors (JSON `[{"code", "title"}]`). */
export function failureCodes(status: string, errors: string): number[] {
  if (status !== 'failed') return [];
  const codes = new Set<number>();
  for (const { code } of JSON.parse(errors) as { code: number | null }[]) {
    if (code !== null) codes.add(code);
  }
  return [...codes];
}
