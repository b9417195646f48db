import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { StoredMessage } from '../../src/store/store.js';
import { byCodePoint, message, seed, storeKinds, type TestApp, testApp } from '../helpers.js';

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

async function rejected(
  t: TestApp,
  query: string,
): Promise<{ loc: unknown[]; type: string; msg: string }[]> {
  const response = await t.app.inject(`/messages${query}`);
  assert.equal(response.statusCode, 422, `${query}: ${response.body}`);
  return response.json().detail;
}

const ids = (page: PageBody) => page.data.map((m) => m.message_id);

for (const kind of storeKinds()) {
  describe(`GET /messages (${kind.name})`, { skip: kind.skip }, () => {
    describe('on an empty store', () => {
      let t: TestApp;
      beforeEach(async () => {
        t = await testApp({ kind });
      });
      afterEach(() => t.close());

      it('returns an empty page with the defaults', async () => {
        assert.deepEqual(await get(t, ''), {
          data: [],
          total: 0,
          limit: 50,
          offset: 0,
          next_cursor: null,
        });
      });

      it('returns text: null for a message sent without text', async () => {
        await seed(t.app, [message({ text: undefined })]);
        assert.deepEqual((await get(t, '')).data, [
          {
            message_id: 'm1',
            from: '+919876543210',
            to: '+14155550100',
            ts: '2025-01-15T10:00:00Z',
            text: null,
          },
        ]);
      });

      it('orders by instant, not by the ts string', async () => {
        await seed(t.app, [
          message({ message_id: 'half', ts: '2025-01-15T10:00:00.5Z' }),
          message({ message_id: 'whole', ts: '2025-01-15T10:00:00Z' }),
          message({ message_id: 'micro', ts: '2025-01-15T10:00:00.000001Z' }),
          message({ message_id: 'quarter', ts: '2025-01-15T10:00:00.25Z' }),
          message({ message_id: 'early', ts: '2025-01-15T09:59:59.999999Z' }),
          message({ message_id: 'ancient', ts: '0001-01-01T00:00:00Z' }),
          message({ message_id: 'far', ts: '9999-12-31T23:59:59Z' }),
        ]);
        assert.deepEqual(ids(await get(t, '')), [
          'ancient',
          'early',
          'whole',
          'micro',
          'quarter',
          'half',
          'far',
        ]);
      });

      it('breaks ties on the same instant by message_id in code point order', async () => {
        const same = ['b', 'a', 'B', '\uffff', '😀', 'é', 'a0', ''].filter((id) => id !== '');
        await seed(
          t.app,
          same.map((id, i) =>
            message({
              message_id: id,
              ts: i % 2 ? '2025-01-15T10:00:00Z' : '2025-01-15T10:00:00.000Z',
            }),
          ),
        );
        assert.deepEqual(ids(await get(t, '')), [...same].sort(byCodePoint));
      });
    });

    describe('on a seeded store', () => {
      let t: TestApp;
      // 30 messages from three senders, one per minute, text varying in case and script
      const texts = [
        'Hello World',
        'café au lait',
        'CAFÉ NOIR',
        'ΣΟΦΙΑ',
        'σοφία',
        'Привет',
        '100% sure',
        'snake_case',
        'back\\slash',
        null,
      ];
      const senders = ['+919876543210', '+14155550100', '+447700900123'];
      const all = Array.from({ length: 30 }, (_, i) =>
        message({
          message_id: `m${String(i).padStart(2, '0')}`,
          from: senders[i % 3],
          ts: `2025-01-15T10:${String(i).padStart(2, '0')}:00Z`,
          text: texts[i % texts.length],
        }),
      );

      before(async () => {
        t = await testApp({ kind });
        // seeded out of order: the response order must come from the query
        await seed(t.app, [...all].reverse());
      });
      after(() => t.close());

      it('pages with limit and offset; total counts every match', async () => {
        const first = await get(t, '?limit=10');
        assert.deepEqual(
          ids(first),
          all.slice(0, 10).map((m) => m.message_id),
        );
        assert.equal(first.total, 30);
        const last = await get(t, '?limit=10&offset=25');
        assert.deepEqual(
          ids(last),
          all.slice(25).map((m) => m.message_id),
        );
        assert.equal(last.total, 30);
        assert.equal(last.offset, 25);
        const beyond = await get(t, '?offset=30');
        assert.deepEqual(beyond.data, []);
        assert.equal(beyond.total, 30);
      });

      it('walks every page through next_cursor, as offsets would', async () => {
        for (const filter of ['', '&from=%2B14155550100', '&q=a&since=2025-01-15T10:05:00Z']) {
          const byOffset = ids(await get(t, `?limit=100${filter}`));
          const walked: string[] = [];
          let page = await get(t, `?limit=4${filter}`);
          for (let pages = 0; pages < 50; pages++) {
            walked.push(...ids(page));
            assert.equal(page.total, byOffset.length, `total on every page (${filter})`);
            if (page.next_cursor === null) break;
            page = await get(t, `?limit=4${filter}&cursor=${page.next_cursor}`);
          }
          assert.deepEqual(walked, byOffset, filter);
        }
        const last = await get(t, '?limit=30');
        assert.equal(last.next_cursor, null, 'no cursor when nothing follows');
        const first = await get(t, '?limit=10');
        assert.equal(typeof first.next_cursor, 'string');
        const skipped = await get(t, `?limit=5&offset=5&cursor=${first.next_cursor}`);
        assert.deepEqual(
          ids(skipped),
          all.slice(15, 20).map((m) => m.message_id),
          'offset counts from the cursor',
        );
      });

      it('rejects a cursor it did not make, an empty one, and one given twice', async () => {
        const made = (json: string) => Buffer.from(json).toString('base64url');
        const { next_cursor } = await get(t, '?limit=1');
        for (const value of [
          '',
          'abc',
          '!!',
          made('[1,"m1"]'),
          made('["1.5","m1"]'),
          made('["1",""]'),
          made('["1","m1",3]'),
          made('{"a":1}'),
          `${next_cursor}=`,
        ]) {
          const issues = await rejected(t, `?cursor=${encodeURIComponent(value)}`);
          assert.deepEqual(
            issues.map((i) => [i.loc, i.type]),
            [[['query', 'cursor'], 'cursor_invalid']],
            value,
          );
        }
        const twice = await rejected(t, `?cursor=${next_cursor}&cursor=${next_cursor}`);
        assert.deepEqual(twice[0]?.type, 'multiple_values');
      });

      it('accepts limit 1 and 100, and leading zeros', async () => {
        assert.equal((await get(t, '?limit=1')).data.length, 1);
        assert.equal((await get(t, '?limit=100')).data.length, 30);
        const padded = await get(t, '?limit=007&offset=0002');
        assert.equal(padded.limit, 7);
        assert.equal(padded.offset, 2);
        assert.deepEqual(
          ids(padded),
          all.slice(2, 9).map((m) => m.message_id),
        );
      });

      it('filters by exact sender', async () => {
        const page = await get(t, '?from=%2B14155550100');
        assert.equal(page.total, 10);
        assert.ok(
          page.data.every((m) => m.from === '+14155550100'),
          'only that sender',
        );
        assert.deepEqual(
          ids(page),
          all.filter((m) => m.from === '+14155550100').map((m) => m.message_id),
        );
        assert.equal((await get(t, '?from=%2B1415555010')).total, 0);
      });

      it('reads an unencoded + (a leading space) as +', async () => {
        const plus = await get(t, '?from=+14155550100');
        assert.equal(plus.total, 10);
        const space = await get(t, '?from=%2014155550100');
        assert.equal(space.total, 10);
      });

      it('filters by since, inclusive, comparing instants', async () => {
        const page = await get(t, '?since=2025-01-15T10:25:00Z');
        assert.deepEqual(ids(page), ['m25', 'm26', 'm27', 'm28', 'm29']);
        assert.equal(page.total, 5);
        // the same instant written differently
        assert.equal((await get(t, '?since=2025-01-15T10:25:00.000000Z')).total, 5);
        assert.equal((await get(t, '?since=2025-01-15T10:25:00.000001Z')).total, 4);
        assert.equal((await get(t, '?since=2025-01-15T10:24:59.999999Z')).total, 5);
      });

      it('searches text case-insensitively in every script', async () => {
        const count = (q: string) => get(t, `?q=${encodeURIComponent(q)}`).then((p) => p.total);
        const expected = (pred: (text: string) => boolean) =>
          all.filter((m) => typeof m.text === 'string' && pred(m.text)).length;
        assert.equal(
          await count('hello'),
          expected((x) => x === 'Hello World'),
        );
        assert.equal(
          await count('WORLD'),
          expected((x) => x === 'Hello World'),
        );
        assert.equal(
          await count('café'),
          expected((x) => x.toLowerCase().includes('café')),
        );
        assert.equal(await count('CAFÉ'), await count('café'));
        assert.equal(await count('é'), await count('É'));
        assert.ok((await count('É')) > 0, 'É matches');
        assert.equal(
          await count('σοφ'),
          expected((x) => x === 'ΣΟΦΙΑ' || x === 'σοφία'),
        );
        assert.equal(await count('ΣΟΦ'), await count('σοφ'));
        assert.equal(
          await count('привет'),
          expected((x) => x === 'Привет'),
        );
        assert.equal(await count('no such words'), 0);
      });

      it('treats %, _ and \\ in q as literal characters', async () => {
        const search = async (q: string) =>
          (await get(t, `?q=${encodeURIComponent(q)}`)).data.map((m) => m.text);
        assert.ok(
          (await search('%')).every((x) => x === '100% sure'),
          '% is literal',
        );
        assert.ok((await search('%')).length > 0, '% found');
        assert.ok(
          (await search('_')).every((x) => x === 'snake_case'),
          '_ is literal',
        );
        assert.ok((await search('_')).length > 0, '_ found');
        assert.ok(
          (await search('\\')).every((x) => x === 'back\\slash'),
          'backslash is literal',
        );
        assert.ok((await search('\\')).length > 0, 'backslash found');
        assert.deepEqual(await search('c%e'), []);
        assert.deepEqual(await search('snake%'), []);
        assert.deepEqual(await search('s_ake'), []);
      });

      it('never matches a message without text', async () => {
        // "l" is in "null": a text stored or searched as the word null would match
        const page = await get(t, '?q=l&limit=100');
        const expected = all.filter(
          (m) => typeof m.text === 'string' && m.text.toLowerCase().includes('l'),
        );
        assert.ok(expected.length > 0, 'some texts match');
        assert.ok(
          all.some((m) => m.text === null),
          'some messages have no text',
        );
        assert.deepEqual(
          ids(page),
          expected.map((m) => m.message_id),
        );
        assert.ok(
          page.data.every((m) => m.text !== null),
          'no null text',
        );
      });

      it('combines filters, with total over all matching pages', async () => {
        const page = await get(t, `?from=%2B919876543210&since=2025-01-15T10:10:00Z&q=A&limit=2`);
        const matches = all.filter(
          (m) =>
            m.from === '+919876543210' &&
            (m.ts as string) >= '2025-01-15T10:10:00Z' &&
            typeof m.text === 'string' &&
            m.text.toLowerCase().includes('a'),
        );
        assert.ok(matches.length > 2, 'the filters should match more than one page');
        assert.equal(page.total, matches.length);
        assert.deepEqual(
          ids(page),
          matches.slice(0, 2).map((m) => m.message_id),
        );
      });

      it('treats an empty from or q as absent, and ignores unknown parameters', async () => {
        assert.equal((await get(t, '?from=&q=&page=3&sort=desc')).total, 30);
      });

      it('rejects malformed or out-of-range limit and offset with 422 naming the parameter', async () => {
        for (const value of [
          '0',
          '101',
          '',
          '-1',
          '+5',
          ' 5',
          '5 ',
          '1.5',
          '1e1',
          '5_0',
          '0x10',
          'ten',
          '٥',
          '99999999999999999999999',
        ]) {
          const [issue] = await rejected(t, `?limit=${encodeURIComponent(value)}`);
          assert.deepEqual(issue?.loc, ['query', 'limit'], `limit=${value}`);
        }
        for (const value of ['', '-1', '+0', '1.0', 'abc', '9007199254740992']) {
          const [issue] = await rejected(t, `?offset=${encodeURIComponent(value)}`);
          assert.deepEqual(issue?.loc, ['query', 'offset'], `offset=${value}`);
        }
      });

      it('rejects a malformed from or since, and an empty since', async () => {
        for (const value of ['+', '%2B', '919876543210', 'abc', '%2B0123', '%20%20919876543210']) {
          const [issue] = await rejected(t, `?from=${value}`);
          assert.deepEqual(issue?.loc, ['query', 'from'], value);
        }
        for (const value of [
          '',
          '2025-01-15',
          '2025-02-30T00:00:00Z',
          '2025-01-15T10:00:00%2B05:30',
          'now',
        ]) {
          const [issue] = await rejected(t, `?since=${value}`);
          assert.deepEqual(issue?.loc, ['query', 'since'], value);
        }
      });

      it('rejects a parameter given twice', async () => {
        for (const name of ['limit', 'offset', 'from', 'since', 'q']) {
          const value = {
            limit: '5',
            offset: '1',
            from: '%2B14155550100',
            since: '2025-01-15T10:00:00Z',
            q: 'a',
          }[name];
          const issues = await rejected(t, `?${name}=${value}&${name}=${value}`);
          assert.deepEqual(
            issues.map((i) => [i.loc, i.type]),
            [[['query', name], 'multiple_values']],
          );
        }
      });

      it('reports every bad parameter at once', async () => {
        const issues = await rejected(t, '?limit=0&offset=x&since=never');
        assert.deepEqual(issues.map((i) => i.loc[1]).sort(), ['limit', 'offset', 'since']);
      });

      it('answers other methods with 405', async () => {
        const response = await t.app.inject({
          method: 'POST',
          url: '/messages',
          payload: 'x',
          headers: { 'content-type': 'text/plain' },
        });
        assert.equal(response.statusCode, 405);
        // DELETE /messages is the erasure of a sender's messages (see erase.test.ts)
        assert.equal(response.headers.allow, 'GET, DELETE, HEAD');
      });
    });
  });
}
