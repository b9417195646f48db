import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Message } from '../../src/message.js';
import type { Store } from '../../src/store/store.js';
import type { StoreKind } from '../helpers.js';

/** Part of the store contract: what is kept about a message besides its five fields. */

const message = (id: string, fields: Partial<Message> = {}): Message => ({
  message_id: id,
  from: '+919876543210',
  to: '+14155550100',
  ts: '2025-01-15T10:00:00.25Z',
  text: 'hello',
  ...fields,
});

export function recordContract(kind: StoreKind): void {
  describe(`Store contract, message records (${kind.name})`, { skip: kind.skip }, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await kind.open());
    });
    afterEach(() => cleanup());

    it('keeps source, type, contact, reply, received_at and payload, and returns them by id', async () => {
      const payload = '{"id":"w1","type":"text","text":{"body":"caf\\u00e9 \\u0000"}}';
      await store.insert(message('w1', { text: 'café \u0000' }), {
        source: 'whatsapp',
        type: 'text',
        contact_name: 'Kerry \u0000 Fisher',
        reply_to: 'wamid.before',
        received_at: '2026-12-02T08:00:00Z',
        payload,
      });
      assert.deepEqual(await store.get('w1'), {
        message_id: 'w1',
        from: '+919876543210',
        to: '+14155550100',
        ts: '2025-01-15T10:00:00.25Z',
        text: 'café \u0000',
        source: 'whatsapp',
        type: 'text',
        contact_name: 'Kerry \u0000 Fisher',
        reply_to: 'wamid.before',
        received_at: '2026-12-02T08:00:00Z',
        payload,
      });
    });

    it('defaults to a webhook message received now, with no payload', async () => {
      const before = new Date(Date.now() - 1000).toISOString().slice(0, 19);
      await store.insert(message('plain', { text: undefined }));
      const record = await store.get('plain');
      assert.ok(record !== null, 'stored');
      const { received_at, ...rest } = record;
      assert.match(received_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(received_at.slice(0, 19) >= before, `received_at ${received_at} is now`);
      assert.deepEqual(rest, {
        message_id: 'plain',
        from: '+919876543210',
        to: '+14155550100',
        ts: '2025-01-15T10:00:00.25Z',
        text: null,
        source: 'webhook',
        type: null,
        contact_name: null,
        reply_to: null,
        payload: null,
      });
    });

    it('keeps the first version of a repeated id, details included', async () => {
      await store.insert(message('dup'), {
        payload: '{"n":1}',
        received_at: '2026-01-01T00:00:00Z',
      });
      const second = await store.insert(message('dup', { text: 'other' }), {
        source: 'whatsapp',
        payload: '{"n":2}',
        received_at: '2026-01-02T00:00:00Z',
      });
      assert.equal(second, 'duplicate');
      const record = await store.get('dup');
      assert.equal(record?.payload, '{"n":1}');
      assert.equal(record?.source, 'webhook');
      assert.equal(record?.received_at, '2026-01-01T00:00:00Z');
      assert.equal(record?.text, 'hello');
    });

    it('finds exact ids only: hostile characters, emoji, case and prefixes', async () => {
      const ids = ['a/b?c#d%e f', '😀 \u0000', '%', 'A', 'wamid.X=='];
      for (const id of ids) await store.insert(message(id));
      for (const id of ids) assert.equal((await store.get(id))?.message_id, id, id);
      for (const missing of ['a', 'a/b', 'wamid.x==', '😀', '', '%%', '_']) {
        assert.equal(await store.get(missing), null, missing);
      }
    });
  });
}
