import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Message } from '../../src/message.js';
import type { Store } from '../../src/store/store.js';
import type { Remove } from '../helpers.js';
import { expectedIds, type Query, randomMessages, toFilter } from './contract.js';

/** Search filters over randomMessages(): `q` alone and with `from` and `since`. */
const FILTERS: Query[] = ['a', 'É', 'ab', 'ba', 'σ', '%', '😀a', 'abab', 'a b', 'zzz'].flatMap(
  (q) => [
    { q },
    { q, from: '+222' },
    { q, since: '2025-01-15T09:30:00Z' },
    { q, from: '+111', since: '1970-01-01T00:00:00Z' },
  ],
);

/**
 * Search totals kept between requests (src/store/count-cache.ts) against a brute-force model:
 * counted cold, asked again warm, topped up after inserts, and counted again after a deletion
 * that moved the change epoch. Part of the store contract (contract.ts).
 */
export function keptTotalsContract(current: () => { store: Store; remove?: Remove }): void {
  it('keeps search totals exact: cold, warm, after inserts, after deletions', async () => {
    const { store, remove } = current();
    const messages = randomMessages(360, 29);
    let present: Message[] = [];
    const check = async (label: string) => {
      for (const filter of FILTERS) {
        const ids = expectedIds(present, filter);
        const page = await store.list(toFilter(filter), { limit: 5, offset: 1 });
        const where = `${label} ${JSON.stringify(filter)}`;
        assert.equal(page.total, ids.length, `total, ${where}`);
        assert.deepEqual(
          page.data.map((m) => m.message_id),
          ids.slice(1, 6),
          `page, ${where}`,
        );
      }
    };
    const insert = async (batch: Message[]) => {
      await Promise.all(batch.map((m) => store.insert(m)));
      present = [...present, ...batch];
    };

    await insert(messages.slice(0, 200));
    await check('cold');
    await check('warm');
    await insert(messages.slice(200, 280));
    await check('topped up');
    if (remove === undefined) return; // this kind has no second connection to delete through
    // from the older messages only: SQLite may give a deleted highest seq to the next insert
    const gone = new Set(present.filter((_, i) => i % 3 === 0 && i < 150).map((m) => m.message_id));
    await remove([...gone]);
    present = present.filter((m) => !gone.has(m.message_id));
    await check('after a deletion');
    await insert(messages.slice(280));
    await check('topped up after a deletion');
  });
}

/**
 * Deep offsets of filters without `q` seek through the kept per-hour and per-sender-day totals
 * (src/store/seek.ts); the pages must be exactly those a walk from the start would give.
 */
export function seekContract(current: () => { store: Store }): void {
  it('pages at deep offsets exactly, seeking through the kept totals', async () => {
    const { store } = current();
    const messages = randomMessages(2200, 41).map((m, i) =>
      i % 10 < 7 ? { ...m, from: '+111' } : m,
    );
    await Promise.all(messages.map((m) => store.insert(m)));
    const filters: Query[] = [
      {},
      { from: '+111' },
      { since: '1969-12-31T23:59:59.5Z' },
      { since: '2025-01-15T09:00:00Z' },
      { from: '+111', since: '1969-12-31T23:00:00.000001Z' },
      { from: '+222', since: '1970-01-01T00:00:00Z' },
    ];
    for (const filter of filters) {
      const ids = expectedIds(messages, filter);
      for (const offset of [999, 1000, 1001, 1234, 1500, 1540, 2150, 2199, 2200, 5000]) {
        const page = await store.list(toFilter(filter), { limit: 7, offset });
        const label = `${JSON.stringify(filter)} offset ${offset}`;
        assert.equal(page.total, ids.length, `total, ${label}`);
        assert.deepEqual(
          page.data.map((m) => m.message_id),
          ids.slice(offset, offset + 7),
          label,
        );
        assert.equal(page.more, ids.length > offset + 7, `more, ${label}`);
      }
    }
  });
}
