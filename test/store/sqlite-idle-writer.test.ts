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
