import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { message, seed, storeKinds, type TestApp, testApp } from '../helpers.js';

for (const kind of storeKinds()) {
  describe(`GET /stats (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind });
    });
    afterEach(() => t.close());

    it('is all zeros and nulls on an empty store', async () => {
      const response = await t.app.inject('/stats');
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), {
        total_messages: 0,
        senders_count: 0,
        messages_per_sender: [],
        first_message_ts: null,
        last_message_ts: null,
      });
    });

    it('counts messages and senders, top 10 by count then from, first and last by instant', async () => {
      // sender k (0..11) sends (k % 4) + 1 messages; several tie on count
      const senders = Array.from({ length: 12 }, (_, k) => `+1555000${String(k).padStart(4, '0')}`);
      const messages = senders.flatMap((from, k) =>
        Array.from({ length: (k % 4) + 1 }, (_, j) =>
          message({
            message_id: `${k}-${j}`,
            from,
            ts: `2025-01-${String(10 + j).padStart(2, '0')}T10:00:00.${k + 1}Z`,
          }),
        ),
      );
      // the earliest and latest instants, written so that string order disagrees
      messages.push(
        message({ message_id: 'first', from: senders[0], ts: '2025-01-01T00:00:00.5Z' }),
      );
      messages.push(message({ message_id: 'last', from: senders[0], ts: '2025-02-01T00:00:00Z' }));
      messages.push(
        message({ message_id: 'not-last', from: senders[0], ts: '2025-01-31T23:59:59.999999Z' }),
      );
      messages.push(
        message({ message_id: 'not-first', from: senders[0], ts: '2025-01-01T00:00:00.50001Z' }),
      );
      await seed(t.app, messages);

      const counts = new Map<string, number>();
      for (const m of messages)
        counts.set(m.from as string, (counts.get(m.from as string) ?? 0) + 1);
      const expectedTop = [...counts]
        .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
        .slice(0, 10)
        .map(([from, count]) => ({ from, count }));

      const stats = (await t.app.inject('/stats')).json();
      assert.equal(stats.total_messages, messages.length);
      assert.equal(stats.senders_count, 12);
      assert.deepEqual(stats.messages_per_sender, expectedTop);
      assert.equal(stats.messages_per_sender.length, 10);
      assert.equal(stats.first_message_ts, '2025-01-01T00:00:00.5Z');
      assert.equal(stats.last_message_ts, '2025-02-01T00:00:00Z');
    });

    it('does not count duplicates', async () => {
      await seed(t.app, [message(), message({ text: 'again' }), message({ message_id: 'm2' })]);
      const stats = (await t.app.inject('/stats')).json();
      assert.equal(stats.total_messages, 2);
      assert.deepEqual(stats.messages_per_sender, [{ from: '+919876543210', count: 2 }]);
    });

    it('returns first and last ts as sent when one instant is written two ways', async () => {
      await seed(t.app, [
        message({ message_id: 'b', ts: '2025-01-15T10:00:00.000Z' }),
        message({ message_id: 'a', ts: '2025-01-15T10:00:00Z' }),
      ]);
      const stats = (await t.app.inject('/stats')).json();
      // same instant: /messages order breaks the tie by message_id
      assert.equal(stats.first_message_ts, '2025-01-15T10:00:00Z');
      assert.equal(stats.last_message_ts, '2025-01-15T10:00:00.000Z');
    });
  });
}
