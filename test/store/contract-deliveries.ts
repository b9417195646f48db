import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Delivery, NewStatus, Store } from '../../src/store/store.js';
import type { StoreKind } from '../helpers.js';

/** Part of the store contract: WhatsApp deliveries, statuses and the kept counts. */

const RECEIVED = '2026-12-02T09:00:00Z';

function whatsappMessage(id: string, ts = '2025-12-02T10:01:00Z', from = '+447700900123') {
  return {
    message: { message_id: id, from, to: '+15557850142', ts, text: `text ${id}` },
    details: {
      source: 'whatsapp' as const,
      type: 'text',
      contact_name: 'Amélie',
      reply_to: null,
      received_at: RECEIVED,
      payload: JSON.stringify({ id }),
    },
  };
}

function status(id: string, word: string, fields: Partial<NewStatus> = {}): NewStatus {
  return {
    message_id: id,
    status: word,
    ts: '2025-12-02T10:01:00Z',
    recipient: '+447700900123',
    errors: [],
    category: 'utility',
    received_at: RECEIVED,
    ...fields,
  };
}

const page = { limit: 100, offset: 0 };

export function deliveryContract(kind: StoreKind): void {
  describe(`Store contract, deliveries (${kind.name})`, { skip: kind.skip }, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await kind.open());
    });
    afterEach(() => cleanup());

    it('stores messages and statuses together, counting what was new', async () => {
      const delivery: Delivery = {
        messages: [whatsappMessage('w1'), whatsappMessage('w2'), whatsappMessage('w1')],
        statuses: [status('o1', 'sent'), status('o1', 'delivered'), status('o1', 'sent')],
      };
      assert.deepEqual(await store.storeDelivery(delivery), {
        messages: { created: 2, duplicate: 1 },
        statuses: { created: 2, duplicate: 1 },
      });
      assert.deepEqual(await store.storeDelivery(delivery), {
        messages: { created: 0, duplicate: 3 },
        statuses: { created: 0, duplicate: 3 },
      });
      assert.equal((await store.list({}, page)).total, 2);
      assert.equal((await store.stats()).total_messages, 2);
      const w1 = await store.get('w1');
      assert.equal(w1?.source, 'whatsapp');
      assert.equal(w1?.contact_name, 'Amélie');
      assert.equal(w1?.payload, '{"id":"w1"}');
      const statuses = await store.listStatuses({}, page);
      assert.equal(statuses.total, 2);
      assert.deepEqual(
        statuses.data.map((s) => s.status),
        ['delivered', 'sent'],
      );
    });

    it('keeps the first version of a status, and statuses of unknown words', async () => {
      await store.storeDelivery({
        messages: [],
        statuses: [status('o1', 'read', { ts: '2025-12-02T10:05:00Z', category: null })],
      });
      await store.storeDelivery({
        messages: [],
        statuses: [
          status('o1', 'read', { ts: '2025-12-02T11:00:00Z' }),
          status('o1', 'played\u0000', { recipient: 'BR.1502576394655843' }),
        ],
      });
      const { data } = await store.listStatuses({ message_id: 'o1' }, page);
      assert.deepEqual(data, [
        {
          message_id: 'o1',
          status: 'played\u0000',
          ts: '2025-12-02T10:01:00Z',
          recipient: 'BR.1502576394655843',
          errors: [],
          category: 'utility',
        },
        {
          message_id: 'o1',
          status: 'read',
          ts: '2025-12-02T10:05:00Z',
          recipient: '+447700900123',
          errors: [],
          category: null,
        },
      ]);
      const stats = await store.statusStats();
      assert.deepEqual(stats.by_status, {
        sent: 0,
        delivered: 0,
        read: 1,
        failed: 0,
        'played\u0000': 1,
      });
    });

    it('keeps failure counts per code: once per failed status, first title, codes without a number left out', async () => {
      const failed = (id: string, errors: NewStatus['errors']) => status(id, 'failed', { errors });
      await store.storeDelivery({
        messages: [],
        statuses: [
          failed('f1', [
            { code: 131049, title: 'Ecosystem' },
            { code: 131049, title: 'again' },
          ]),
          failed('f2', [
            { code: 131049, title: 'Later title' },
            { code: 130472, title: null },
          ]),
          failed('f3', [{ code: null, title: 'no code' }]),
          status('f4', 'sent', { errors: [{ code: 1, title: 'not a failure' }] }),
        ],
      });
      assert.deepEqual((await store.statusStats()).failures, [
        { code: 131049, title: 'Ecosystem', count: 2 },
        { code: 130472, title: null, count: 1 },
      ]);
      const f1 = (await store.listStatuses({ message_id: 'f1' }, page)).data[0];
      assert.deepEqual(f1?.errors, [
        { code: 131049, title: 'Ecosystem' },
        { code: 131049, title: 'again' },
      ]);
    });

    it('counts days from the kept totals, deliveries and single inserts alike', async () => {
      await store.storeDelivery({
        messages: [
          whatsappMessage('d1', '2025-01-01T23:59:59Z'),
          whatsappMessage('d2', '2025-01-02T00:00:00Z', 'BR.1502576394655843'),
        ],
        statuses: [],
      });
      await store.insert({
        message_id: 'd3',
        from: '+447700900123',
        to: '+1555',
        ts: '2025-01-05T12:00:00.5Z',
      });
      assert.deepEqual(await store.dailyCounts(30), [
        { day: '2025-01-01', count: 1 },
        { day: '2025-01-02', count: 1 },
        { day: '2025-01-05', count: 1 },
      ]);
      assert.deepEqual(await store.dailyCounts(2, '+447700900123'), [
        { day: '2025-01-01', count: 1 },
        { day: '2025-01-05', count: 1 },
      ]);
      assert.deepEqual(await store.dailyCounts(1, 'BR.1502576394655843'), [
        { day: '2025-01-02', count: 1 },
      ]);
      assert.deepEqual((await store.stats()).messages_per_sender, [
        { from: '+447700900123', count: 2 },
        { from: 'BR.1502576394655843', count: 1 },
      ]);
    });

    it('gives concurrent deliveries their own outcomes, one created per id', async () => {
      const deliveries = Array.from({ length: 20 }, (_, d) => ({
        messages: Array.from({ length: 10 }, (_, i) => whatsappMessage(`c${(d * 10 + i) % 60}`)),
        statuses: [status(`s${d % 5}`, 'sent')],
      }));
      const outcomes = await Promise.all(deliveries.map((d) => store.storeDelivery(d)));
      const created = outcomes.reduce((sum, o) => sum + o.messages.created, 0);
      const statusesCreated = outcomes.reduce((sum, o) => sum + o.statuses.created, 0);
      assert.equal(created, 60);
      assert.equal(statusesCreated, 5);
      assert.equal((await store.list({}, page)).total, 60);
      assert.equal((await store.listStatuses({}, page)).total, 5);
    });
  });
}
