import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import {
  freshSchema,
  message,
  POSTGRES_SKIP,
  postWebhook,
  seed,
  storeKinds,
  type TestApp,
  tempDir,
  testApp,
} from '../helpers.js';

const ADMIN = 'admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${ADMIN}` };

const MESSAGES = [
  message({ message_id: 'a1', from: '+911111111111', ts: '2025-01-15T10:00:00Z', text: 'hello a' }),
  message({ message_id: 'a2', from: '+911111111111', ts: '2025-01-16T10:00:00Z', text: 'again a' }),
  message({ message_id: 'b1', from: '+922222222222', ts: '2025-01-15T11:00:00Z', text: 'hello b' }),
  message({ message_id: 'export', from: '+922222222222', ts: '2025-01-17T11:00:00Z', text: null }),
];

async function stats(t: TestApp) {
  return (await t.app.inject('/stats')).json();
}

/** Everything a client can read, to compare before and after a request that must change nothing. */
async function snapshot(t: TestApp) {
  const list = (await t.app.inject('/messages?limit=100')).json();
  return { list, stats: await stats(t), search: (await t.app.inject('/messages?q=hello')).json() };
}

for (const kind of storeKinds()) {
  describe(`DELETE /messages (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind, adminToken: ADMIN });
      await seed(t.app, MESSAGES);
    });
    afterEach(() => t.close());

    it("erases a sender's messages: 200 with the count, and every total follows", async () => {
      const response = await t.app.inject({
        method: 'DELETE',
        url: '/messages?from=%2B911111111111',
        headers: auth,
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { deleted: 2 });
      assert.deepEqual(await stats(t), {
        total_messages: 2,
        senders_count: 1,
        messages_per_sender: [{ from: '+922222222222', count: 2 }],
        first_message_ts: '2025-01-15T11:00:00Z',
        last_message_ts: '2025-01-17T11:00:00Z',
      });
      const search = (await t.app.inject('/messages?q=hello')).json();
      assert.deepEqual(
        search.data.map((m: { message_id: string }) => m.message_id),
        ['b1'],
      );
      assert.equal(search.total, 1);
      const sender = (await t.app.inject('/messages?from=%2B911111111111')).json();
      assert.equal(sender.total, 0);
      const daily = (await t.app.inject('/stats/daily')).json();
      if (daily.days !== undefined) {
        assert.deepEqual(daily.days, [
          { day: '2025-01-15', count: 1 },
          { day: '2025-01-17', count: 1 },
        ]);
      }
      const again = await t.app.inject({
        method: 'DELETE',
        url: '/messages?from=%2B911111111111',
        headers: auth,
      });
      assert.deepEqual(again.json(), { deleted: 0 });
    });

    it('reads an unencoded + (a leading space) as +', async () => {
      const response = await t.app.inject({
        method: 'DELETE',
        url: '/messages?from=+922222222222',
        headers: auth,
      });
      assert.deepEqual(response.json(), { deleted: 2 });
    });

    it('erases one message; a redelivery is acknowledged and stores nothing', async () => {
      const response = await t.app.inject({ method: 'DELETE', url: '/messages/a1', headers: auth });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { deleted: 1 });
      assert.equal((await t.app.inject('/messages/a1')).statusCode, 404);
      const before = await snapshot(t);
      const redelivery = await postWebhook(t.app, MESSAGES[0] as Record<string, unknown>);
      assert.equal(redelivery.statusCode, 200);
      assert.deepEqual(redelivery.json(), { status: 'ok' });
      const line = t.logs.requests().at(-1);
      assert.equal(line?.dup, true, 'logged as a duplicate');
      assert.deepEqual(await snapshot(t), before, 'nothing stored again');
      assert.equal((await t.app.inject('/messages/a1')).statusCode, 404);
    });

    it('erases a message whose id is literally export with DELETE /messages/export', async () => {
      const response = await t.app.inject({
        method: 'DELETE',
        url: '/messages/export',
        headers: auth,
      });
      assert.deepEqual(response.json(), { deleted: 1 });
      assert.equal((await stats(t)).total_messages, 3);
    });

    it('answers an unknown id with 404 and changes nothing', async () => {
      const before = await snapshot(t);
      const response = await t.app.inject({ method: 'DELETE', url: '/messages/zz', headers: auth });
      assert.equal(response.statusCode, 404);
      assert.deepEqual(response.json(), { detail: 'message not found' });
      assert.deepEqual(await snapshot(t), before);
      // no tombstone either: the id can still be stored
      const later = await postWebhook(t.app, message({ message_id: 'zz' }));
      assert.equal(later.statusCode, 200);
      assert.equal((await stats(t)).total_messages, 5);
    });

    it('refuses DELETE without from, or with a malformed one (422), erasing nothing', async () => {
      const before = await snapshot(t);
      for (const query of [
        '',
        '?from=',
        '?from=%2B',
        '?from=911111111111',
        '?from=%2B0123',
        '?x=1',
        '?from=%2B911111111111&from=%2B911111111111',
      ]) {
        const response = await t.app.inject({
          method: 'DELETE',
          url: `/messages${query}`,
          headers: auth,
        });
        assert.equal(response.statusCode, 422, `${query}: ${response.body}`);
        const locs = response.json().detail.map((issue: { loc: unknown[] }) => issue.loc);
        assert.deepEqual(locs, [['query', 'from']], query);
      }
      assert.deepEqual(await snapshot(t), before);
    });

    it('needs the admin token: 401 without one, 403 for a wrong one; the token is never logged', async () => {
      const before = await snapshot(t);
      const cases: [Record<string, string>, number, string][] = [
        [{}, 401, 'missing bearer token'],
        [{ authorization: 'Basic abc' }, 401, 'missing bearer token'],
        [{ authorization: 'Bearer admin-token-0123456789abcdeX' }, 403, 'invalid bearer token'],
        [{ authorization: `Bearer ${ADMIN}x` }, 403, 'invalid bearer token'],
      ];
      for (const [headers, status, detail] of cases) {
        for (const url of ['/messages?from=%2B911111111111', '/messages/a1', '/messages']) {
          const response = await t.app.inject({ method: 'DELETE', url, headers });
          assert.equal(response.statusCode, status, `${url} ${JSON.stringify(headers)}`);
          assert.deepEqual(response.json(), { detail });
        }
      }
      assert.deepEqual(await snapshot(t), before);
      await t.app.inject({ method: 'DELETE', url: '/messages/a1', headers: auth });
      assert.ok(
        t.logs.raw.every((line) => !line.includes('admin-token-0123456789')),
        'no log line holds the token',
      );
    });
  });
}

describe('DELETE /messages without ADMIN_TOKEN', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
    await seed(t.app, MESSAGES);
  });
  afterEach(() => t.close());

  it('is 403 with or without a token, and erases nothing', async () => {
    for (const headers of [{}, auth]) {
      for (const url of ['/messages?from=%2B911111111111', '/messages/a1']) {
        const response = await t.app.inject({ method: 'DELETE', url, headers });
        assert.equal(response.statusCode, 403);
        assert.deepEqual(response.json(), {
          detail: 'erasure is disabled: ADMIN_TOKEN is not set',
        });
      }
    }
    assert.equal((await stats(t)).total_messages, 4);
  });
});

/** Opens, erases, closes, reopens: the tombstone must still refuse the id. */
async function tombstoneSurvivesRestart(open: () => Promise<Store>): Promise<void> {
  const first = await open();
  const m = {
    message_id: 'gone',
    from: '+911111111111',
    to: '+14155550100',
    ts: '2025-01-15T10:00:00Z',
    text: 'secret',
  };
  assert.equal(await first.insert(m), 'created');
  assert.equal(await first.erase({ messageId: 'gone' }), 1);
  await first.close();
  const second = await open();
  try {
    assert.equal(await second.insert(m), 'duplicate');
    assert.equal((await second.list({}, { limit: 10, offset: 0 })).total, 0);
    assert.equal(await second.get('gone'), null);
  } finally {
    await second.close();
  }
}

describe('erasure tombstones across a restart', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('hold on SQLite', async () => {
    const path = join(dir.path, 'restart.db');
    await tombstoneSurvivesRestart(async () => openStore({ kind: 'sqlite', path }));
  });

  it('hold on PostgreSQL', { skip: POSTGRES_SKIP }, async () => {
    const { url } = await freshSchema();
    await tombstoneSurvivesRestart(() =>
      openStore({ kind: 'postgres', url, poolSize: 3, timeoutMs: 5000 }),
    );
  });
});
