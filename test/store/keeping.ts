import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { instantOf } from '../../src/instant.js';
import type { Message } from '../../src/message.js';
import type { NewStatus } from '../../src/store/records.js';
import type { Stats, Store } from '../../src/store/store.js';
import { byCodePoint } from '../helpers.js';
import { expectedIds, msg, type Query, random, randomMessages, toFilter } from './contract.js';

/**
 * The contract of deleting messages (erasure; retention sweeps join it), part of the store
 * contract: after every delete, each total, the stats, search and pages equal a recount of the
 * messages left.
 */

const SENDERS = ['+111', '+222', '+333', '+444'];
const SINCES = ['1969-12-31T23:30:00Z', '1970-01-01T00:00:00.000001Z', '2025-01-15T10:00:00Z'];
// 'aba' and 'bab': three code points or more, so found through the search index on SQLite, from
// which every delete must remove its rows
const QS = ['a', 'ab', 'éa', 'σσ', '😀', 'aba', 'bab'];

/** What stats() must say about `messages`, counted the slow, obvious way. */
export function expectedStats(messages: Message[]): Stats {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.from, (counts.get(m.from) ?? 0) + 1);
  const ordered = expectedIds(messages, {}).map(
    (id) => messages.find((m) => m.message_id === id) as Message,
  );
  return {
    total_messages: messages.length,
    senders_count: counts.size,
    messages_per_sender: [...counts]
      .sort(([a, x], [b, y]) => y - x || byCodePoint(a, b))
      .slice(0, 10)
      .map(([from, count]) => ({ from, count })),
    first_message_ts: ordered[0]?.ts ?? null,
    last_message_ts: ordered.at(-1)?.ts ?? null,
  };
}

/** Messages per UTC day of ts, oldest first, as dailyCounts() lists the days that hold any. */
function expectedDays(messages: Message[], from?: string): { day: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const m of messages) {
    if (from !== undefined && m.from !== from) continue;
    const day = new Date(Number(instantOf(m.ts) / 1000n)).toISOString().slice(0, 10);
    counts.set(day, (counts.get(day) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([day, count]) => ({ day, count }));
}

/** Asserts that every total, stats, search and a page of `store` agree with `messages`. */
export async function assertRecount(store: Store, messages: Message[], label: string) {
  assert.deepEqual(await store.stats(), expectedStats(messages), `stats ${label}`);
  assert.deepEqual(await store.dailyCounts(366), expectedDays(messages), `daily ${label}`);
  assert.deepEqual(
    await store.dailyCounts(366, '+222'),
    expectedDays(messages, '+222'),
    `daily of +222 ${label}`,
  );
  const filters: Query[] = [{}];
  for (const from of SENDERS) filters.push({ from });
  for (const since of SINCES) filters.push({ since }, { from: '+222', since });
  for (const q of QS) filters.push({ q }, { from: '+111', q });
  for (const filter of filters) {
    const ids = expectedIds(messages, filter);
    const page = await store.list(toFilter(filter), { limit: 20, offset: 3 });
    const what = `${label} ${JSON.stringify(filter)}`;
    assert.equal(page.total, ids.length, `total ${what}`);
    assert.deepEqual(
      page.data.map((m) => m.message_id),
      ids.slice(3, 23),
      `page ${what}`,
    );
  }
}

/** Waits until the store's search index has caught up (stores without one: at once). */
export async function indexed(store: Store): Promise<void> {
  for (let i = 0; i < 400 && (store.searchBacklog?.() ?? 0) > 0; i++) await setTimeout(10);
  assert.equal(store.searchBacklog?.() ?? 0, 0, 'the search index caught up');
}

export function keepingContract(current: () => Store): void {
  it('erases one message: gone from every total, and its id never stored again', async () => {
    const store = current();
    const kept = [
      msg('a', { from: '+111', ts: '2025-01-15T09:00:00Z', text: 'abc' }),
      msg('b', { from: '+222', ts: '2025-01-15T10:00:00Z', text: 'abcd' }),
      msg('c', { from: '+111', ts: '2025-01-16T10:00:00Z', text: 'bcd' }),
    ];
    for (const m of kept) await store.insert(m);
    await indexed(store);
    assert.equal(await store.erase({ messageId: 'b' }), 1);
    const left = kept.filter((m) => m.message_id !== 'b');
    await assertRecount(store, left, 'after erasing b');
    assert.equal(await store.insert(msg('b', { text: 'back again' })), 'duplicate');
    await assertRecount(store, left, 'after redelivering b');
    assert.equal(await store.erase({ messageId: 'b' }), 0, 'erasing again erases nothing');
    assert.equal(await store.erase({ messageId: 'nope' }), 0, 'an unknown id erases nothing');
    await assertRecount(store, left, 'after erasing nothing');
    assert.equal(await store.insert(msg('nope')), 'created', 'no tombstone for an unknown id');
  });

  it('erases every message of a sender across batches, and nothing else', async () => {
    const store = current();
    const messages = Array.from({ length: 1200 }, (_, i) =>
      msg(`s${i}`, {
        from: i % 3 === 0 ? '+333' : '+444',
        ts: `2025-01-${String(10 + (i % 5)).padStart(2, '0')}T0${i % 10}:00:00Z`,
        text: `word ${i % 7} ab`,
      }),
    );
    await Promise.all(messages.map((m) => store.insert(m)));
    assert.equal(await store.erase({ from: '+333' }), 400);
    const left = messages.filter((m) => m.from !== '+333');
    await assertRecount(store, left, 'after erasing +333');
    assert.equal(await store.insert(messages[0] as Message), 'duplicate');
    assert.equal(await store.insert(msg('new-333', { from: '+333' })), 'created');
  });

  it('indexes a message stored after the newest one was erased (no seq is reused)', async () => {
    const store = current();
    await store.insert(msg('old', { text: 'needle one' }));
    await store.insert(msg('newest', { text: 'needle two' }));
    await indexed(store);
    assert.equal(await store.erase({ messageId: 'newest' }), 1);
    await store.insert(msg('later', { text: 'needle three' }));
    await indexed(store);
    const found = await store.list(toFilter({ q: 'needle' }), { limit: 10, offset: 0 });
    assert.deepEqual(
      found.data.map((m) => m.message_id),
      ['later', 'old'].sort(),
    );
    assert.equal(found.total, 2);
  });

  it('sweeps what was received before the cut-off, across batches, and nothing else', async () => {
    const store = current();
    const messages = randomMessages(90, 4);
    const received = (i: number) => `2025-03-0${1 + (i % 3)}T12:00:00Z`;
    await Promise.all(messages.map((m, i) => store.insert(m, { received_at: received(i) })));
    await indexed(store);
    assert.deepEqual(await store.sweep('2025-03-01T12:00:00Z', { batch: 7 }), {
      messages: 0,
      statuses: 0,
    });
    const result = await store.sweep('2025-03-02T12:00:01Z', { batch: 7 });
    assert.deepEqual(result, { messages: 60, statuses: 0 });
    const left = messages.filter((_, i) => i % 3 === 2);
    await assertRecount(store, left, 'after the sweep');
    // a swept message was not erased: its id may be stored again
    assert.equal(await store.insert(messages[0] as Message), 'created');
  });

  it('sweeps delivery statuses, with their counts per status and per failure code', async () => {
    const store = current();
    const status = (i: number, word: string, codes: number[]): NewStatus => ({
      message_id: `wamid.${i}`,
      status: word,
      ts: '2025-03-01T10:00:00Z',
      recipient: '+16505551234',
      errors: codes.map((code) => ({ code, title: `error ${code}` })),
      category: null,
      received_at: `2025-03-0${1 + (i % 2)}T00:00:00Z`,
    });
    const statuses = [
      ...Array.from({ length: 6 }, (_, i) => status(i, 'sent', [])),
      ...Array.from({ length: 4 }, (_, i) => status(i, 'delivered', [])),
      ...Array.from({ length: 5 }, (_, i) => status(i, 'failed', i < 3 ? [131047, 131047] : [470])),
    ];
    await store.storeDelivery({ messages: [], statuses });
    // received on the 1st: i even; the sweep of everything before the 2nd takes those
    const kept = statuses.filter((_, i) => Number(statuses[i]?.message_id.slice(6)) % 2 === 1);
    assert.deepEqual(await store.sweep('2025-03-02T00:00:00Z', { batch: 2 }), {
      messages: 0,
      statuses: statuses.length - kept.length,
    });
    const byStatus: Record<string, number> = { sent: 0, delivered: 0, read: 0, failed: 0 };
    for (const s of kept) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
    const stats = await store.statusStats();
    assert.deepEqual(stats.by_status, byStatus);
    assert.deepEqual(
      stats.failures,
      [
        { code: 131047, title: 'error 131047', count: 1 },
        { code: 470, title: 'error 470', count: 1 },
      ].sort((a, b) => b.count - a.count || a.code - b.code),
    );
    const page = await store.listStatuses({}, { limit: 100, offset: 0 });
    assert.equal(page.total, kept.length);
    await store.sweep('2030-01-01T00:00:00Z');
    assert.deepEqual(await store.statusStats(), {
      by_status: { sent: 0, delivered: 0, read: 0, failed: 0 },
      failures: [],
    });
  });

  it('agrees with a recount after random interleavings of inserts, sweeps and erasures', async () => {
    const store = current();
    const all = randomMessages(360, 21);
    const next = random(5);
    const day = (n: number) => `2025-03-${String(10 + n).padStart(2, '0')}T00:00:00Z`;
    let stored: { message: Message; received: number }[] = [];
    const erased = new Set<string>();
    for (let step = 0; step < 14; step++) {
      const batch = all.slice(step * 25, step * 25 + 25);
      const received = step % 5;
      const outcomes = await Promise.all(
        batch.map((m) => store.insert(m, { received_at: day(received) })),
      );
      for (const [i, m] of batch.entries()) {
        assert.equal(outcomes[i], erased.has(m.message_id) ? 'duplicate' : 'created');
        if (!erased.has(m.message_id)) stored.push({ message: m, received });
      }
      if (next() < 0.5) await indexed(store); // delete indexed and unindexed rows alike
      const roll = next();
      if (roll < 0.3) {
        const cut = Math.floor(next() * 5);
        const expected = stored.filter((s) => s.received < cut).length;
        const swept = await store.sweep(day(cut), { batch: 1 + Math.floor(next() * 40) });
        assert.deepEqual(swept, { messages: expected, statuses: 0 }, `step ${step}: sweep`);
        stored = stored.filter((s) => s.received >= cut);
      } else if (roll < 0.5) {
        const from = SENDERS[Math.floor(next() * SENDERS.length)] as string;
        const gone = stored.filter((s) => s.message.from === from);
        for (const s of gone) erased.add(s.message.message_id);
        assert.equal(await store.erase({ from }), gone.length, `step ${step}: erase ${from}`);
        stored = stored.filter((s) => s.message.from !== from);
      } else {
        const victim = stored[Math.floor(next() * stored.length)];
        if (victim !== undefined) {
          erased.add(victim.message.message_id);
          assert.equal(await store.erase({ messageId: victim.message.message_id }), 1);
          stored = stored.filter((s) => s !== victim);
        }
      }
      await assertRecount(
        store,
        stored.map((s) => s.message),
        `step ${step}`,
      );
    }
  });
}
