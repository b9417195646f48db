import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StoredMessage } from '../../src/store/store.js';
import { message, seed, storeKinds, type TestApp, testApp } from '../helpers.js';

interface PageBody {
  data: StoredMessage[];
  total: number;
  limit: number;
  offset: number;
  next_cursor: string | null;
}

async function get(t: TestApp, query: string): Promise<PageBody> {
  const response = await t.app.inject(`/messages${query}`);
  assert.equal(response.statusCode, 200, `${query}: ${response.body}`);
  return response.json();
}

async function rejected(t: TestApp, query: string): Promise<{ loc: unknown[]; type: string }[]> {
  const response = await t.app.inject(`/messages${query}`);
  assert.equal(response.statusCode, 422, `${query}: ${response.body}`);
  return response.json().detail;
}

const ids = (page: PageBody) => page.data.map((m) => m.message_id);

/** Walks every page of `query` through next_cursor. */
async function walk(t: TestApp, query: string): Promise<string[]> {
  const walked: string[] = [];
  let page = await get(t, query);
  for (let pages = 0; pages < 50; pages++) {
    walked.push(...ids(page));
    if (page.next_cursor === null) return walked;
    page = await get(t, `${query}&cursor=${page.next_cursor}`);
  }
  throw new Error('more than 50 pages');
}

for (const kind of storeKinds()) {
  describe(`GET /messages?order=desc (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    const senders = ['+919876543210', '+14155550100', '+447700900123'];
    // 30 messages, two of them at the same instant (ordered by id), one with a fraction
    const all = Array.from({ length: 30 }, (_, i) =>
      message({
        message_id: `m${String(i).padStart(2, '0')}`,
        from: senders[i % 3],
        ts:
          i === 11
            ? '2025-01-15T10:10:00.000Z'
            : i === 12
              ? '2025-01-15T10:10:00.5Z'
              : `2025-01-15T10:${String(i).padStart(2, '0')}:00Z`,
        text: i % 2 === 0 ? `Even ${i}` : `odd ${i}`,
      }),
    );
    const ascending = all.map((m) => String(m.message_id));
    const descending = [...ascending].reverse();

    before(async () => {
      t = await testApp({ kind });
      await seed(
        t.app,
        [...all].sort(() => 0.5 - Math.random()),
      );
    });
    after(() => t.close());

    it('lists newest first, the exact reverse of the default order', async () => {
      const page = await get(t, '?order=desc&limit=100');
      assert.deepEqual(ids(page), descending);
      assert.equal(page.total, 30);
      assert.equal(page.next_cursor, null);
      const asc = await get(t, '?order=asc&limit=100');
      assert.deepEqual(ids(asc), ascending);
    });

    it('walks every page through its own cursor, with and without filters', async () => {
      assert.deepEqual(await walk(t, '?order=desc&limit=4'), descending);
      const filtered = all
        .filter((m, i) => m.from === senders[0] && i >= 6)
        .map((m) => String(m.message_id))
        .reverse();
      assert.deepEqual(
        await walk(t, '?order=desc&limit=2&from=%2B919876543210&since=2025-01-15T10:06:00Z'),
        filtered,
      );
      const searched = descending.filter((id) => Number(id.slice(1)) % 2 === 0);
      assert.deepEqual(await walk(t, '?order=desc&limit=3&q=EVEN'), searched);
      assert.deepEqual(await walk(t, '?order=desc&limit=3&q=ev'), searched);
      const first = await get(t, '?order=desc&limit=10');
      const skipped = await get(t, `?order=desc&limit=5&offset=5&cursor=${first.next_cursor}`);
      assert.deepEqual(ids(skipped), descending.slice(15, 20), 'offset counts from the cursor');
    });

    it("refuses one order's cursor in the other order", async () => {
      const desc = (await get(t, '?order=desc&limit=1')).next_cursor;
      const asc = (await get(t, '?limit=1')).next_cursor;
      assert.notEqual(desc, asc);
      for (const query of [`?cursor=${desc}`, `?order=asc&cursor=${desc}`]) {
        const issues = await rejected(t, query);
        assert.deepEqual(
          issues.map((i) => [i.loc, i.type]),
          [[['query', 'cursor'], 'cursor_invalid']],
        );
      }
      const issues = await rejected(t, `?order=desc&cursor=${asc}`);
      assert.deepEqual(
        issues.map((i) => [i.loc, i.type]),
        [[['query', 'cursor'], 'cursor_invalid']],
      );
    });

    it('rejects an unknown, empty or repeated order', async () => {
      for (const [query, type] of [
        ['?order=DESC', 'enum'],
        ['?order=newest', 'enum'],
        ['?order=', 'enum'],
        ['?order=desc&order=desc', 'multiple_values'],
      ] as const) {
        const issues = await rejected(t, query);
        assert.deepEqual(
          issues.map((i) => [i.loc, i.type]),
          [[['query', 'order'], type]],
          query,
        );
      }
    });

    it('adds what else is kept about each message with details=true', async () => {
      const page = await get(t, '?order=desc&limit=2&details=true');
      const first = page.data[0] as unknown as Record<string, unknown>;
      assert.equal(first.message_id, 'm29');
      assert.equal(first.source, 'webhook');
      assert.equal(first.type, null);
      assert.equal(first.contact_name, null);
      assert.equal(first.reply_to, null);
      assert.match(String(first.received_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal('payload' in first, false);
      const plain = await get(t, '?order=desc&limit=2');
      assert.deepEqual(Object.keys(plain.data[0] ?? {}), [
        'message_id',
        'from',
        'to',
        'ts',
        'text',
      ]);
      const issues = await rejected(t, '?details=yes');
      assert.deepEqual(
        issues.map((i) => i.loc),
        [['query', 'details']],
      );
    });

    it('leaves the default response as it was', async () => {
      const response = await t.app.inject('/messages?limit=2');
      const body = response.json();
      assert.deepEqual(Object.keys(body), ['data', 'total', 'limit', 'offset', 'next_cursor']);
      assert.deepEqual(ids(body), ascending.slice(0, 2));
      const cursor = JSON.parse(Buffer.from(body.next_cursor, 'base64url').toString());
      assert.equal(cursor.length, 2, 'the ascending cursor keeps its two fields');
    });
  });
}
