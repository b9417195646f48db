import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FreshRead } from '../../src/store/fresh.js';

describe('FreshRead', () => {
  it('answers each caller from a read that started after it called, one read at a time', async () => {
    let started = 0;
    let running = 0;
    let most = 0;
    const finish: (() => void)[] = [];
    const fresh = new FreshRead(async () => {
      const n = ++started;
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => finish.push(resolve));
      running--;
      return n;
    });
    const first = [fresh.get(), fresh.get()];
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(started, 1, 'callers of one turn share the read');
    // these arrive while read 1 runs: read 1 may have missed what they saw, so they get read 2
    const second = [fresh.get(), fresh.get(), fresh.get()];
    finish.shift()?.();
    assert.deepEqual(await Promise.all(first), [1, 1]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(started, 2);
    const third = fresh.get();
    finish.shift()?.();
    assert.deepEqual(await Promise.all(second), [2, 2, 2]);
    await new Promise((resolve) => setImmediate(resolve));
    finish.shift()?.();
    assert.equal(await third, 3);
    assert.equal(most, 1, 'never two reads at once');
  });

  it('passes a failed read on to its callers only, and reads again for the next', async () => {
    let calls = 0;
    const fresh = new FreshRead(async () => {
      calls++;
      if (calls === 1) throw new Error('down');
      return calls;
    });
    await assert.rejects(fresh.get(), /down/);
    assert.equal(await fresh.get(), 2);
  });
});
