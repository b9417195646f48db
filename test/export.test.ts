import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import type { Position } from '../src/cursor.js';
import { csvField, ExportStream } from '../src/export.js';
import type { ListFilter, Store, StoredMessage } from '../src/store/store.js';

/** A store of `count` generated messages that records each scan it is asked for. */
function countingStore(count: number): { store: Store; scans: number } {
  const state = { scans: 0, store: {} as Store };
  const row = (i: number): StoredMessage => ({
    message_id: `m${String(i).padStart(9, '0')}`,
    from: '+111',
    to: '+222',
    ts: '2025-01-15T10:00:00Z',
    text: 'x'.repeat(100),
  });
  state.store = {
    async scan(_filter: ListFilter, after: Position | undefined, limit: number) {
      state.scans++;
      const start = after === undefined ? 0 : Number(after.messageId.slice(1)) + 1;
      const end = Math.min(count, start + limit);
      return Array.from({ length: Math.max(0, end - start) }, (_, k) => row(start + k));
    },
  } as Store;
  return state;
}

describe('ExportStream', () => {
  it('reads only as far as the reader takes: a reader that stops holds the reads', async () => {
    const state = countingStore(1_000_000);
    const stream = await new ExportStream(state.store, {}, 'ndjson', { chunk: 100 }).start();
    stream.once('data', () => stream.pause());
    await setTimeout(200);
    const held = state.scans;
    // a chunk is about 14 kB; the buffer holds 64 kB: a handful of reads, not a million rows
    assert.ok(held <= 8, `${held} reads while nothing was taken`);
    await setTimeout(200);
    assert.equal(state.scans, held, 'no further reads while paused');
    stream.destroy();
    await setTimeout(50);
    assert.equal(state.scans, held, 'no read after the stream is destroyed');
  });

  it('reads to the end, one scan per chunk, each after the last position', async () => {
    const state = countingStore(1050);
    const stream = await new ExportStream(state.store, {}, 'ndjson', { chunk: 100 }).start();
    let lines = 0;
    for await (const chunk of stream) lines += String(chunk).split('\n').length - 1;
    assert.equal(lines, 1050);
    assert.equal(state.scans, 11);
  });

  it('fails the stream when a later read fails', async () => {
    let calls = 0;
    const store = {
      async scan() {
        calls++;
        if (calls > 1) throw new Error('database gone');
        return Array.from({ length: 10 }, (_, i) => ({
          message_id: `m${i}`,
          from: '+111',
          to: '+222',
          ts: '2025-01-15T10:00:00Z',
          text: null,
        }));
      },
    } as unknown as Store;
    const stream = await new ExportStream(store, {}, 'csv', { chunk: 10 }).start();
    await assert.rejects(async () => {
      for await (const _ of stream);
    }, /database gone/);
  });

  it('quotes a CSV field only when it must, and the empty string always', () => {
    assert.equal(csvField('+14155550100'), '+14155550100');
    assert.equal(csvField('=1+2'), '=1+2');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('a\nb'), '"a\nb"');
    assert.equal(csvField(''), '""');
    assert.equal(csvField(null), '');
  });
});
