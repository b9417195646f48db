import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { positionOf } from '../../src/cursor.js';
import { fold } from '../../src/fold.js';
import { instantOf } from '../../src/instant.js';
import type { Message } from '../../src/message.js';
import type { ListFilter, Store } from '../../src/store/store.js';
import { byCodePoint, type Remove, type StoreKind } from '../helpers.js';
import { deliveryContract } from './contract-deliveries.js';
import { recordContract } from './contract-records.js';
import { keptTotalsContract, seekContract } from './contract-totals.js';
import { keepingContract } from './keeping.js';

export function msg(id: string, fields: Partial<Message> = {}): Message {
  return {
    message_id: id,
    from: '+919876543210',
    to: '+14155550100',
    ts: '2025-01-15T10:00:00Z',
    text: `text ${id}`,
    ...fields,
  };
}

const everything = { limit: 100, offset: 0 };

/** A small deterministic random number generator (mulberry32), so failures reproduce. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random messages over a few hours around two hour boundaries, one before 1970. */
export function randomMessages(count: number, seed: number): Message[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const alphabet = [
    'a',
    'b',
    'A',
    'é',
    'É',
    'σ',
    'Σ',
    'ß',
    '%',
    '_',
    '\\',
    '"',
    ' ',
    '😀',
    'ab',
    'ba',
  ];
  const bases = ['2025-01-15T09', '2025-01-15T10', '1969-12-31T23', '1970-01-01T00'];
  return Array.from({ length: count }, (_, i) => {
    const minute = String(Math.floor(next() * 60)).padStart(2, '0');
    const second = String(Math.floor(next() * 60)).padStart(2, '0');
    const fraction = next() < 0.3 ? `.${Math.floor(next() * 1000)}` : '';
    const length = Math.floor(next() * 12);
    const text = next() < 0.1 ? null : Array.from({ length }, () => pick(alphabet)).join('');
    return msg(`r${String(Math.floor(next() * 1000)).padStart(3, '0')}-${i}`, {
      from: pick(['+111', '+222', '+333', '+444']),
      ts: `${pick(bases)}:${minute}:${second}${fraction}Z`,
      text,
    });
  });
}

/** The filters of GET /messages as a client writes them. */
export interface Query {
  from?: string;
  since?: string;
  q?: string;
}

/** A query as the HTTP edge hands it to a store: `since` parsed, `q` folded. */
export function toFilter(query: Query): ListFilter {
  return {
    from: query.from,
    since: query.since === undefined ? undefined : instantOf(query.since),
    q: query.q === undefined ? undefined : fold(query.q),
  };
}

/** What list() must return for `filter`, computed the slow, obvious way. */
export function expectedIds(messages: Message[], filter: Query): string[] {
  const lower = (s: string) => Array.from(s, (c) => (c === 'İ' ? 'i' : c.toLowerCase())).join('');
  const instant = (ts: string) => {
    const [whole = '', fraction = ''] = ts.slice(0, -1).split('.');
    return BigInt(Date.parse(`${whole}Z`)) * 1000n + BigInt(fraction.padEnd(6, '0'));
  };
  return messages
    .filter((m) => filter.from === undefined || m.from === filter.from)
    .filter((m) => filter.since === undefined || instant(m.ts) >= instant(filter.since))
    .filter(
      (m) =>
        filter.q === undefined ||
        (typeof m.text === 'string' && lower(m.text).includes(lower(filter.q))),
    )
    .sort((a, b) => {
      const d = instant(a.ts) - instant(b.ts);
      return d !== 0n ? (d < 0n ? -1 : 1) : byCodePoint(a.message_id, b.message_id);
    })
    .map((m) => m.message_id);
}

/** The behaviour every Store implementation must have; run by each implementation's test file. */
export function storeContract(kind: StoreKind): void {
  recordContract(kind);
  deliveryContract(kind);
  describe(`Store contract (${kind.name})`, { skip: kind.skip }, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let remove: Remove | undefined;
    beforeEach(async () => {
      ({ store, cleanup, remove } = await kind.open());
    });
    afterEach(() => cleanup());

    keptTotalsContract(() => ({ store, remove }));
    seekContract(() => ({ store }));

    it('reports created, then duplicate, keeping the first version', async () => {
      assert.equal(await store.insert(msg('a', { text: 'one' })), 'created');
      assert.equal(
        await store.insert(msg('a', { text: 'two', from: '+14155550199' })),
        'duplicate',
      );
      const page = await store.list({}, everything);
      assert.deepEqual(page, {
        data: [
          {
            message_id: 'a',
            from: '+919876543210',
            to: '+14155550100',
            ts: '2025-01-15T10:00:00Z',
            text: 'one',
          },
        ],
        total: 1,
        more: false,
      });
    });

    it('gives concurrent inserts their own outcomes, one created per id', async () => {
      const ids = Array.from({ length: 200 }, (_, i) => `id-${i % 50}`);
      const outcomes = await Promise.all(ids.map((id) => store.insert(msg(id))));
      const created = ids.filter((_, i) => outcomes[i] === 'created');
      assert.deepEqual([...created].sort(), [...new Set(ids)].sort());
      assert.equal((await store.list({}, everything)).total, 50);
    });

    it('stores text null, and text exactly as given', async () => {
      await store.insert(msg('none', { text: null }));
      await store.insert(msg('absent', { text: undefined }));
      const odd = 'tab\there, NUL\u0000, emoji 🧪, RTL ‮x, combining é, 𝕏';
      await store.insert(msg('odd', { text: odd }));
      const texts = Object.fromEntries(
        (await store.list({}, everything)).data.map((m) => [m.message_id, m.text]),
      );
      assert.deepEqual(texts, { absent: null, none: null, odd });
    });

    it('orders by instant, then message_id by code point, and pages with a full total', async () => {
      const rows = [
        msg('z', { ts: '2025-01-15T10:00:00Z' }),
        msg('y', { ts: '2025-01-15T10:00:00.5Z' }),
        msg('x', { ts: '2025-01-15T10:00:00.05Z' }),
        msg('\uffff', { ts: '2025-01-15T10:00:00Z' }),
        msg('😀', { ts: '2025-01-15T10:00:00.000Z' }),
        msg('a', { ts: '1999-12-31T23:59:59.999999Z' }),
      ];
      for (const row of rows) await store.insert(row);
      const order = ['a', ...['z', '\uffff', '😀'].sort(byCodePoint), 'x', 'y'];
      assert.deepEqual(
        (await store.list({}, everything)).data.map((m) => m.message_id),
        order,
      );
      const page = await store.list({}, { limit: 2, offset: 3 });
      assert.deepEqual(
        page.data.map((m) => m.message_id),
        order.slice(3, 5),
      );
      assert.equal(page.total, 6);
    });

    it('pages after a position: equal instants, more, and a total over all matches', async () => {
      // equal instants written three ways, so only message_id separates them
      const spellings = [
        '2025-01-15T10:00:00Z',
        '2025-01-15T10:00:00.0Z',
        '2025-01-15T10:00:00.000000Z',
      ];
      const ids = Array.from({ length: 23 }, (_, i) => `k${String.fromCodePoint(0x41 + i * 997)}`);
      for (const [i, id] of ids.entries()) {
        await store.insert(msg(id, { ts: spellings[i % 3], from: i % 2 ? '+111' : '+222' }));
      }
      await store.insert(msg('before', { ts: '2025-01-15T09:59:59.999999Z' }));
      await store.insert(msg('later', { ts: '2025-01-15T10:00:00.000001Z' }));
      const expected = (await store.list({}, everything)).data.map((m) => m.message_id);
      assert.equal(expected.length, 25);

      const walked: string[] = [];
      let page = await store.list({}, { limit: 4, offset: 0 });
      for (;;) {
        walked.push(...page.data.map((m) => m.message_id));
        assert.equal(page.total, 25, 'total ignores the position');
        const last = page.data.at(-1);
        if (!page.more || last === undefined) break;
        page = await store.list({}, { limit: 4, offset: 0, after: positionOf(last) });
      }
      assert.deepEqual(walked, expected);

      // the offset counts from the position; filters still apply
      const third = expected[2] as string;
      const from3 = await store.list(
        {},
        {
          limit: 3,
          offset: 2,
          after: positionOf({ ts: spellings[0] as string, message_id: third }),
        },
      );
      assert.deepEqual(
        from3.data.map((m) => m.message_id),
        expected.slice(5, 8),
      );
      const evens = await store.list(
        { from: '+222' },
        {
          limit: 100,
          offset: 0,
          after: positionOf({ ts: spellings[0] as string, message_id: third }),
        },
      );
      const allEvens = (await store.list({ from: '+222' }, everything)).data.map(
        (m) => m.message_id,
      );
      assert.deepEqual(
        evens.data.map((m) => m.message_id),
        allEvens.filter((id) => expected.indexOf(id) > 2),
      );
      assert.equal(evens.total, allEvens.length);
      assert.equal(evens.more, false);

      const exact = await store.list({}, { limit: 25, offset: 0 });
      assert.equal(exact.more, false, 'a page that ends exactly at the last message has no more');
      assert.equal((await store.list({}, { limit: 24, offset: 0 })).more, true);
    });

    it('agrees with a brute-force model on random data: totals, order, pages and search', async () => {
      const messages = randomMessages(400, 7);
      await Promise.all(messages.map((m) => store.insert(m)));
      const next = random(11);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const sinces = [
        '1969-12-31T23:30:00Z',
        '1970-01-01T00:00:00Z',
        '1970-01-01T00:00:00.000001Z',
        '2025-01-15T09:59:59.999Z',
        '2025-01-15T10:00:00Z',
        '2025-01-15T10:30:00.5Z',
      ];
      const qs = [
        'a',
        'A',
        'é',
        'σ',
        'ab',
        'ba',
        'aB',
        'ÉÉ',
        '%',
        '_',
        '\\',
        '"',
        '"a',
        '😀a',
        'abab',
        'a b',
        'Σσ',
        'zzz',
        'ß',
      ];
      for (let round = 0; round < 120; round++) {
        const filter: Query = {};
        if (next() < 0.4) filter.from = pick(['+111', '+222', '+333', '+444', '+555']);
        if (next() < 0.4) filter.since = pick(sinces);
        if (next() < 0.6) filter.q = pick(qs);
        const ids = expectedIds(messages, filter);
        const limit = pick([1, 7, 50, 100]);
        const offset = pick([0, 0, 3, 40]);
        const order = pick(['asc', 'desc'] as const);
        const page = await store.list(toFilter(filter), { limit, offset, order });
        const label = JSON.stringify({ filter, limit, offset, order });
        const ordered = order === 'asc' ? ids : [...ids].reverse();
        assert.equal(page.total, ids.length, `total ${label}`);
        assert.deepEqual(
          page.data.map((m) => m.message_id),
          ordered.slice(offset, offset + limit),
          label,
        );
        assert.equal(page.more, ids.length > offset + limit, `more ${label}`);
        // the same page as JSON text: the same messages, total, more, and last position
        const json = await store.listJson(toFilter(filter), { limit, offset, order });
        const last = page.data.at(-1);
        assert.deepEqual(JSON.parse(json.json), page.data, `listJson ${label}`);
        assert.deepEqual(
          [json.total, json.more, json.last],
          [page.total, page.more, last === undefined ? null : positionOf(last)],
          `listJson ${label}`,
        );
      }
    });

    it('filters by sender, since (inclusive) and q, alone and together', async () => {
      await store.insert(
        msg('1', { from: '+111', ts: '2025-01-01T00:00:00Z', text: 'Grüße aus KÖLN' }),
      );
      await store.insert(
        msg('2', { from: '+222', ts: '2025-01-02T00:00:00Z', text: 'köln again' }),
      );
      await store.insert(
        msg('3', { from: '+111', ts: '2025-01-03T00:00:00Z', text: '50% off_now \\o/' }),
      );
      await store.insert(msg('4', { from: '+111', ts: '2025-01-04T00:00:00Z', text: null }));
      const ids = async (filter: Query) =>
        (await store.list(toFilter(filter), everything)).data.map((m) => m.message_id);
      assert.deepEqual(await ids({ from: '+111' }), ['1', '3', '4']);
      assert.deepEqual(await ids({ since: '2025-01-02T00:00:00Z' }), ['2', '3', '4']);
      assert.deepEqual(await ids({ since: '2025-01-02T00:00:00.000001Z' }), ['3', '4']);
      assert.deepEqual(await ids({ q: 'KÖLN' }), ['1', '2']);
      assert.deepEqual(await ids({ q: 'grüsse' }), []);
      assert.deepEqual(await ids({ q: '%' }), ['3']);
      assert.deepEqual(await ids({ q: '_' }), ['3']);
      assert.deepEqual(await ids({ q: '\\' }), ['3']);
      assert.deepEqual(await ids({ q: '5_%' }), []);
      assert.deepEqual(await ids({ from: '+111', since: '2025-01-02T00:00:00Z', q: 'OFF' }), ['3']);
      assert.equal((await store.list({ from: '+111' }, { limit: 1, offset: 0 })).total, 3);
    });

    it('computes stats: totals, top senders with ties by from, first and last by instant', async () => {
      assert.deepEqual(await store.stats(), {
        total_messages: 0,
        senders_count: 0,
        messages_per_sender: [],
        first_message_ts: null,
        last_message_ts: null,
      });
      await store.insert(msg('1', { from: '+333', ts: '2025-01-01T00:00:00.25Z' }));
      await store.insert(msg('2', { from: '+222', ts: '2025-01-01T00:00:00.3Z' }));
      await store.insert(msg('3', { from: '+111', ts: '2025-01-01T00:00:00.1Z' }));
      await store.insert(msg('4', { from: '+333', ts: '2024-12-31T23:59:59.999Z' }));
      assert.deepEqual(await store.stats(), {
        total_messages: 4,
        senders_count: 3,
        messages_per_sender: [
          { from: '+333', count: 2 },
          { from: '+111', count: 1 },
          { from: '+222', count: 1 },
        ],
        first_message_ts: '2024-12-31T23:59:59.999Z',
        last_message_ts: '2025-01-01T00:00:00.3Z',
      });
    });

    it('tells subscribers of each new message once committed, never of a duplicate', async () => {
      await store.insert(msg('before'));
      const heard: unknown[] = [];
      let arrived: () => void = () => {};
      const both = new Promise<void>((resolve) => {
        arrived = () => heard.length === 2 && resolve();
      });
      const unsubscribe = await store.subscribe((m) => {
        heard.push(m);
        arrived();
      });
      const outcomes = await Promise.all([
        store.insert(msg('new', { text: null })),
        store.insert(msg('before')),
        store.insert(msg('two', { text: '<b>x</b>' })),
      ]);
      assert.deepEqual(outcomes, ['created', 'duplicate', 'created']);
      await Promise.race([both, sleep(5000)]);
      const byId = (a: unknown, b: unknown) =>
        byCodePoint((a as Message).message_id, (b as Message).message_id);
      assert.deepEqual(heard.sort(byId), [
        msg('new', { text: null }),
        msg('two', { text: '<b>x</b>' }),
      ]);
      const listed = await store.list({}, everything);
      assert.equal(listed.total, 3, 'heard only what is stored');
      unsubscribe();
      await store.insert(msg('after'));
      await sleep(200);
      assert.equal(heard.length, 2, 'nothing after unsubscribing');
    });

    it('reports itself healthy', async () => {
      assert.deepEqual(await store.check(), { database: 'ok', schema: 'ok' });
    });

    keepingContract(() => store);

    it('commits inserts still pending when closed', async () => {
      const pending = [store.insert(msg('p1')), store.insert(msg('p2'))];
      await store.close();
      assert.deepEqual(await Promise.all(pending), ['created', 'created']);
    });
  });
}
