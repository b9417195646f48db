import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generator, WINDOW_SECONDS, WINDOW_START } from '../src/cli/generate.js';
import { fold } from '../src/fold.js';
import { instantOf } from '../src/instant.js';
import type { Message } from '../src/message.js';
import { storeKinds, type TestApp, testApp } from './helpers.js';

/**
 * The load harness's GET /messages mix (from, since, q, offsets up to 500) at CI size: 50,000
 * messages, a few seconds of 25 concurrent clients, on every store. Every answer must be a 200
 * whose total matches a brute-force count (search totals are kept between requests, see
 * src/store/count-cache.ts), and whose page is as long as the total and offset allow.
 */

const MESSAGES = 50_000;
const CLIENTS = 25;
const SECONDS = 3;
const LIMIT = 50;
const WORDS = ['order', 'delivery', 'payment', 'invoice', 'thanks', 'please', 'tomorrow', 'ready'];
const WORDS_RARE = ['ticket support', 'zanzibar'];

/** A small deterministic random number generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Query strings in the harness's proportions (shared/bench/gen.py queries). */
function queries(messages: Message[], count: number): URLSearchParams[] {
  const next = random(3);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return Array.from({ length: count }, () => {
    const query = new URLSearchParams();
    const kind = next();
    if (kind < 0.25 || kind >= 0.9) query.set('from', pick(messages).from);
    if ((kind >= 0.25 && kind < 0.45) || kind >= 0.9) {
      const second = Math.floor(next() * WINDOW_SECONDS);
      query.set('since', `${new Date(WINDOW_START + second * 1000).toISOString().slice(0, 19)}Z`);
    }
    if ((kind >= 0.45 && kind < 0.65) || kind >= 0.95) {
      query.set('q', next() < 0.1 ? pick(WORDS_RARE) : pick(WORDS));
    }
    query.set('limit', String(LIMIT));
    query.set('offset', String(pick([0, 0, 0, LIMIT, 2 * LIMIT, 10 * LIMIT])));
    return query;
  });
}

/** How many messages match a query, counted the slow, obvious way (memoised per filter). */
function model(messages: Message[]): (query: URLSearchParams) => number {
  const folded = messages.map((m) => (typeof m.text === 'string' ? fold(m.text) : null));
  const instants = messages.map((m) => instantOf(m.ts));
  const memo = new Map<string, number>();
  return (query) => {
    const key = ['from', 'since', 'q'].map((name) => query.get(name)).join('|');
    let total = memo.get(key);
    if (total === undefined) {
      const from = query.get('from');
      const since = query.get('since');
      const sinceUs = since === null ? null : instantOf(since);
      const q = query.get('q');
      const qFolded = q === null ? null : fold(q);
      total = 0;
      messages.forEach((m, i) => {
        if (from !== null && m.from !== from) return;
        if (sinceUs !== null && (instants[i] as bigint) < sinceUs) return;
        if (qFolded !== null && !folded[i]?.includes(qFolded)) return;
        total = (total as number) + 1;
      });
      memo.set(key, total);
    }
    return total;
  };
}

for (const kind of storeKinds()) {
  describe(`GET /messages mix at ${MESSAGES} messages (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    let messages: Message[];
    before(async () => {
      t = await testApp({ kind, logLevel: 'error' });
      const next = generator('mix-smoke');
      messages = Array.from({ length: MESSAGES }, next);
      for (let i = 0; i < MESSAGES; i += 5000) {
        const outcomes = await Promise.all(
          messages.slice(i, i + 5000).map((m) => t.store.insert(m)),
        );
        assert.equal(outcomes.filter((o) => o === 'created').length, Math.min(5000, MESSAGES - i));
      }
    });
    after(() => t?.close());

    it('answers every request of the mix with a 200 and an exact total', async () => {
      const expected = model(messages);
      const mix = queries(messages, 5000);
      const failures: string[] = [];
      let answered = 0;
      let position = 0;
      const end = Date.now() + SECONDS * 1000;
      const client = async () => {
        while (Date.now() < end) {
          const query = mix[position++ % mix.length] as URLSearchParams;
          const response = await t.app.inject(`/messages?${query}`);
          answered++;
          if (response.statusCode !== 200) {
            failures.push(`${query}: ${response.statusCode} ${response.body}`);
            continue;
          }
          const body = response.json() as { total: number; data: unknown[] };
          const total = expected(query);
          const length = Math.max(0, Math.min(LIMIT, total - Number(query.get('offset'))));
          if (body.total !== total || body.data.length !== length) {
            failures.push(
              `${query}: total ${body.total} (expected ${total}), ${body.data.length} rows`,
            );
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, client));
      assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${answered} answers wrong`);
      assert.ok(answered >= CLIENTS, `only ${answered} answers in ${SECONDS} s`);
    });
  });
}
