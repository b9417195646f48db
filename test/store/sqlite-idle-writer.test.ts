import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeleteBatch } from '../../src/store/delete-batch.js';
import type { SqliteDeleter } from '../../src/store/sqlite/erase.js';
import { IndexingWriter } from '../../src/store/sqlite/idle-writer.js';
import type { SqliteStatusDeleter } from '../../src/store/sqlite/sweep.js';
import type { SqliteWriter } from '../../src/store/sqlite/writer.js';

/** Spins for `ms`: a step of the writer takes its time on the thread, like a transaction. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('IndexingWriter: the steps of a retention sweep', () => {
  it('grow back after one slow step (the budget never stays shrunk)', async () => {
    const limits: number[] = [];
    const deleter = {
      delete(batch: DeleteBatch): number {
        limits.push(batch.limit);
        // the first step is slow (a merge, the machine busy); then 0.05 ms a row
        busy(limits.length === 1 ? 60 : 0.05 * batch.limit);
        return batch.limit;
      },
    } as unknown as SqliteDeleter;
    const writer = { indexAlone: () => 0 } as unknown as SqliteWriter;
    const idle = new IndexingWriter(writer, deleter, {} as SqliteStatusDeleter);
    try {
      const target = { kind: 'received-before', before: '2030-01-01T00:00:00Z' } as const;
      assert.equal(await idle.sweepWhenIdle({ target, limit: 3000, tombstone: false }), 3000);
    } finally {
      idle.stop();
    }
    assert.ok(
      (limits[1] as number) < (limits[0] as number),
      `shrunk after the slow step: ${limits}`,
    );
    // 4 ms steps at 0.05 ms a row: about 80 rows each once the estimate has recovered
    assert.ok((limits.at(-2) as number) >= 40, `grown back: ${limits.slice(-5)}`);
  });
});

describe('IndexingWriter: the pace of a retention sweep', () => {
  /** Sweeps `rows` at 0.2 ms a row (4 ms steps), writing every 5 ms or not; the time it took. */
  async function sweepTime(rows: number, writing: boolean): Promise<number> {
    const deleter = {
      delete(batch: DeleteBatch): number {
        busy(0.2 * batch.limit);
        return batch.limit;
      },
    } as unknown as SqliteDeleter;
    const writer = { indexAlone: () => 0, write: () => [] } as unknown as SqliteWriter;
    const idle = new IndexingWriter(writer, deleter, {} as SqliteStatusDeleter);
    const writes = writing ? setInterval(() => idle.write([]), 5) : undefined;
    const started = performance.now();
    try {
      const target = { kind: 'received-before', before: '2030-01-01T00:00:00Z' } as const;
      await idle.sweepWhenIdle({ target, limit: rows, tombstone: false });
      return performance.now() - started;
    } finally {
      clearInterval(writes);
      idle.stop();
    }
  }

  it('rests ten times as long as each step while writes arrive, once as long when idle', async () => {
    // 40 ms of deleting: about 80 ms idle (steps and rests), about 440 ms writing
    const idle = await sweepTime(200, false);
    const writing = await sweepTime(200, true);
    assert.ok(writing >= 300, `while writing: ${writing.toFixed(0)} ms`);
    assert.ok(writing > 2.5 * idle, `writing ${writing.toFixed(0)} ms, idle ${idle.toFixed(0)} ms`);
  });
});
