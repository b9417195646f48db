import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  expectedFrom,
  FIXTURES,
  type FixtureName,
  fixture,
  fixtureBytes,
} from '../fixtures/whatsapp/index.js';
import { APP_SECRET, postWhatsapp } from '../harness/whatsapp.js';
import { storeKinds, type TestApp, testApp } from '../helpers.js';

const CLOCK = new Date('2026-12-02T09:00:00.900Z');

/** Every message and status stored, as the read routes show them. */
async function storedOf(t: TestApp, ids: string[]) {
  const messages = [];
  for (const id of ids) {
    const response = await t.app.inject(`/messages/${encodeURIComponent(id)}`);
    if (response.statusCode === 200) messages.push(response.json());
  }
  const statuses = (await t.app.inject('/statuses?limit=100')).json().data;
  const total = (await t.app.inject('/messages')).json().total;
  return { messages, statuses, total };
}

/** The ids a fixture's messages have (stored or not). */
function messageIds(name: FixtureName): string[] {
  return fixture(name).entry.flatMap((entry) =>
    entry.changes.flatMap((change) =>
      ((change.value.messages ?? []) as { id: string }[]).map((item) => item.id),
    ),
  );
}

/** The items of a fixture's messages, by id: the payload each stored message must carry. */
function itemsById(name: FixtureName): Map<string, unknown> {
  const items = new Map<string, unknown>();
  for (const entry of fixture(name).entry)
    for (const change of entry.changes)
      for (const item of (change.value.messages ?? []) as { id: string }[])
        items.set(item.id, item);
  return items;
}

for (const kind of storeKinds()) {
  describe(`POST /webhooks/whatsapp: every documented payload (${kind.name})`, {
    skip: kind.skip,
  }, () => {
    let t: TestApp;
    let now: Date;
    beforeEach(async () => {
      now = CLOCK;
      t = await testApp({ kind, clock: () => now, whatsapp: { appSecret: APP_SECRET } });
    });
    afterEach(() => t.close());

    for (const name of FIXTURES) {
      it(`${name}: stores exactly what the fixture expects`, async () => {
        const response = await postWhatsapp(t.app, fixtureBytes(name));
        assert.equal(response.statusCode, 200, response.body);
        assert.deepEqual(response.json(), { status: 'ok' });
        const expected = expectedFrom(name);
        const items = itemsById(name);
        const stored = await storedOf(t, messageIds(name));
        assert.deepEqual(
          stored.messages,
          expected.messages.map((m) => ({
            ...m,
            source: 'whatsapp',
            received_at: '2026-12-02T09:00:00Z',
            payload: items.get(m.message_id),
          })),
        );
        assert.equal(stored.total, expected.messages.length);
        assert.deepEqual(
          stored.statuses,
          [...expected.statuses].sort((a, b) =>
            a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.message_id < b.message_id ? -1 : 1,
          ),
        );
      });
    }

    it('a redelivery is answered 200 and changes nothing, even with other content', async () => {
      for (const name of ['batch', 'status-failed', 'reaction'] as const) {
        assert.equal((await postWhatsapp(t.app, fixtureBytes(name))).statusCode, 200);
      }
      const ids = [...messageIds('batch'), ...messageIds('reaction')];
      const reads = async () => ({
        stored: await storedOf(t, ids),
        stats: (await t.app.inject('/stats')).json(),
        statuses: (await t.app.inject('/stats/statuses')).json(),
        daily: (await t.app.inject('/stats/daily')).json(),
      });
      const before = await reads();
      now = new Date('2027-01-01T00:00:00Z');
      for (const name of ['batch', 'status-failed', 'reaction'] as const) {
        assert.equal((await postWhatsapp(t.app, fixtureBytes(name))).statusCode, 200);
      }
      // the same ids with other words: the first version stays
      const changed = fixtureBytes('batch').toString('utf8').replace('Merci, re', 'Changed, re');
      assert.equal((await postWhatsapp(t.app, changed)).statusCode, 200);
      assert.deepEqual(await reads(), before);
      assert.equal(before.statuses.by_status.failed, 1);
      assert.equal(before.stats.total_messages, 3);
    });
  });
}
