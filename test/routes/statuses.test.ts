import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { APP_SECRET, envelope, postWhatsapp, textItem } from '../harness/whatsapp.js';
import { message, seed, storeKinds, type TestApp, testApp } from '../helpers.js';

/** GET /statuses, GET /stats/statuses and GET /stats/daily. */

const status = (
  id: string,
  word: string,
  timestamp: number,
  errors: { code: number; title: string }[] = [],
) => ({ id, status: word, timestamp: String(timestamp), recipient_id: '919812345670', errors });

const T0 = 1764669660; // 2025-12-02T10:01:00Z

async function deliver(t: TestApp, messages: object[], statuses: object[]): Promise<void> {
  const response = await postWhatsapp(t.app, envelope(messages, statuses));
  assert.equal(response.statusCode, 200, response.body);
}

for (const kind of storeKinds()) {
  describe(`GET /statuses and /stats/statuses (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind, whatsapp: { appSecret: APP_SECRET } });
    });
    afterEach(() => t.close());

    it('orders by ts, message_id, status; pages by offset and cursor with a full total', async () => {
      const statuses = [];
      for (let i = 0; i < 23; i++) {
        // equal instants for several ids, several statuses per id
        statuses.push(
          status(
            `w${i % 7}`,
            ['sent', 'delivered', 'read', 'failed'][i % 4] as string,
            T0 + (i % 3),
          ),
        );
      }
      await deliver(t, [], statuses.slice(0, 11));
      await deliver(t, [], statuses.slice(11));
      const all = (await t.app.inject('/statuses?limit=100')).json();
      const unique = new Map(statuses.map((s) => [`${s.id} ${s.status}`, s]));
      assert.equal(all.total, unique.size);
      const keys = all.data.map((s: { ts: string; message_id: string; status: string }) => [
        s.ts,
        s.message_id,
        s.status,
      ]);
      const sorted = [...keys].sort((a, b) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1));
      assert.deepEqual(keys, sorted);
      const walked = [];
      let url = '/statuses?limit=4';
      for (;;) {
        const page = (await t.app.inject(url)).json();
        assert.equal(page.total, unique.size);
        walked.push(...page.data);
        if (page.next_cursor === null) break;
        url = `/statuses?limit=4&cursor=${page.next_cursor}`;
      }
      assert.deepEqual(walked, all.data);
      const offset = (await t.app.inject('/statuses?limit=3&offset=5')).json();
      assert.deepEqual(offset.data, all.data.slice(5, 8));
    });

    it('filters by message_id, status and since, with totals that match', async () => {
      await deliver(
        t,
        [],
        [
          status('a', 'sent', T0),
          status('a', 'delivered', T0 + 60),
          status('a', 'read', T0 + 120),
          status('b', 'sent', T0 + 30),
          status('b', 'failed', T0 + 90, [{ code: 131026, title: 'Message undeliverable' }]),
        ],
      );
      const ids = async (query: string) => {
        const page = (await t.app.inject(`/statuses?${query}`)).json();
        assert.equal(page.total, page.data.length, query);
        return page.data.map(
          (s: { message_id: string; status: string }) => `${s.message_id}:${s.status}`,
        );
      };
      assert.deepEqual(await ids('message_id=a'), ['a:sent', 'a:delivered', 'a:read']);
      assert.deepEqual(await ids('status=sent'), ['a:sent', 'b:sent']);
      assert.deepEqual(await ids('since=2025-12-02T10:02:00Z'), [
        'a:delivered',
        'b:failed',
        'a:read',
      ]);
      assert.deepEqual(await ids('status=failed&message_id=b'), ['b:failed']);
      assert.deepEqual(await ids('status=seen'), []);
      assert.deepEqual(await ids('message_id='), await ids(''));
      const failed = (await t.app.inject('/statuses?status=failed')).json().data[0];
      assert.deepEqual(failed, {
        message_id: 'b',
        status: 'failed',
        ts: '2025-12-02T10:02:30Z',
        recipient: '+919812345670',
        errors: [{ code: 131026, title: 'Message undeliverable' }],
        category: null,
      });
    });

    it('refuses malformed parameters with a 422 naming them', async () => {
      for (const [query, name] of [
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['limit=', 'limit'],
        ['offset=-1', 'offset'],
        ['since=2025-02-30T00:00:00Z', 'since'],
        ['cursor=nope!', 'cursor'],
        [`cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'cursor'],
        ['status=a&status=b', 'status'],
      ] as const) {
        const response = await t.app.inject(`/statuses?${query}`);
        assert.equal(response.statusCode, 422, query);
        assert.deepEqual(response.json().detail[0].loc, ['query', name], query);
      }
    });

    it('counts statuses per kind and the 10 commonest failures, by count then code', async () => {
      const statuses = [
        status('m0', 'sent', T0),
        status('m0', 'delivered', T0),
        status('m1', 'sent', T0),
      ];
      // codes 100..111: code 100 + k fails (k % 3) + 1 times, so counts tie
      let n = 0;
      for (let k = 0; k < 12; k++) {
        for (let j = 0; j <= k % 3; j++) {
          statuses.push(status(`f${n++}`, 'failed', T0, [{ code: 100 + k, title: `title ${k}` }]));
        }
      }
      // an error repeated within one status counts once; a status Meta adds later is kept
      statuses.push(
        status('f-dup', 'failed', T0, [
          { code: 100, title: 'title 0' },
          { code: 100, title: 'title 0' },
        ]),
      );
      statuses.push(status('m0', 'played', T0));
      await deliver(t, [], statuses);
      await deliver(t, [], statuses); // a redelivery counts nothing twice
      const stats = (await t.app.inject('/stats/statuses')).json();
      assert.deepEqual(stats.by_status, {
        sent: 2,
        delivered: 1,
        read: 0,
        failed: n + 1,
        played: 1,
      });
      const counts = Array.from({ length: 12 }, (_, k) => ({
        code: 100 + k,
        title: `title ${k}`,
        count: (k % 3) + 1 + (k === 0 ? 1 : 0),
      }));
      counts.sort((a, b) => b.count - a.count || a.code - b.code);
      assert.deepEqual(stats.failures, counts.slice(0, 10));
    });

    it('is all zeros on an empty store, and guarded by READ_TOKEN', async () => {
      assert.deepEqual((await t.app.inject('/stats/statuses')).json(), {
        by_status: { sent: 0, delivered: 0, read: 0, failed: 0 },
        failures: [],
      });
      const guarded = await testApp({ kind, readToken: 'reader-token-0123456' });
      try {
        for (const path of ['/statuses', '/stats/statuses', '/stats/daily']) {
          assert.equal((await guarded.app.inject(path)).statusCode, 401, path);
          const ok = await guarded.app.inject({
            url: path,
            headers: { authorization: 'Bearer reader-token-0123456' },
          });
          assert.equal(ok.statusCode, 200, path);
        }
      } finally {
        await guarded.close();
      }
    });
  });

  describe(`GET /stats/daily (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind, whatsapp: { appSecret: APP_SECRET } });
    });
    afterEach(() => t.close());

    it('counts messages per UTC day, oldest first, for the N most recent days with any', async () => {
      const days = ['2024-12-31', '2025-01-01', '2025-01-03', '2025-01-10', '1969-12-31'];
      const messages = days.flatMap((day, d) =>
        Array.from({ length: d + 1 }, (_, i) =>
          message({
            message_id: `${day}-${i}`,
            from: i % 2 === 0 ? '+111' : '+222',
            ts: `${day}T${String(23 - i).padStart(2, '0')}:59:59.999Z`,
          }),
        ),
      );
      await seed(t.app, messages);
      // WhatsApp messages count too
      await deliver(
        t,
        [textItem('wa-1', 'hi', String(Date.parse('2025-01-10T00:00:00Z') / 1000))],
        [],
      );
      const all = (await t.app.inject('/stats/daily')).json();
      assert.deepEqual(all, {
        days: [
          { day: '1969-12-31', count: 5 },
          { day: '2024-12-31', count: 1 },
          { day: '2025-01-01', count: 2 },
          { day: '2025-01-03', count: 3 },
          { day: '2025-01-10', count: 5 },
        ],
      });
      assert.deepEqual((await t.app.inject('/stats/daily?days=2')).json().days, all.days.slice(3));
      assert.deepEqual((await t.app.inject('/stats/daily?days=1&from=%2B222')).json().days, [
        { day: '2025-01-10', count: 2 },
      ]);
      assert.deepEqual((await t.app.inject('/stats/daily?from= 111')).json().days, [
        { day: '1969-12-31', count: 3 },
        { day: '2024-12-31', count: 1 },
        { day: '2025-01-01', count: 1 },
        { day: '2025-01-03', count: 2 },
        { day: '2025-01-10', count: 2 },
      ]);
      assert.deepEqual((await t.app.inject('/stats/daily?from=%2B999')).json(), { days: [] });
    });

    it('refuses days out of 1-366, malformed or repeated, and a malformed from', async () => {
      for (const query of [
        'days=0',
        'days=367',
        'days=',
        'days=1.5',
        'days=1&days=2',
        'from=%2B',
        'from=abc',
      ]) {
        const response = await t.app.inject(`/stats/daily?${query}`);
        assert.equal(response.statusCode, 422, query);
      }
      assert.equal((await t.app.inject('/stats/daily?days=366')).statusCode, 200);
    });
  });
}
