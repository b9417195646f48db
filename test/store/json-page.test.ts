import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { positionOf } from '../../src/cursor.js';
import { StoredMessageSchema } from '../../src/message.js';
import { jsonPageOf } from '../../src/store/json-page.js';
import type { StoredMessage } from '../../src/store/store.js';

const awkward = [
  'plain',
  '',
  'quote " backslash \\ slash /',
  'controls \u0000 \u0001 \b \f \n \r \t \u001f \u007f',
  'é ß Σ 中文 😀 \u2028 \u2029',
  'lone \ud800 surrogate \udfff',
  '</script><!--',
];

/** What the route's response schema writes for these messages (Fastify's own serializer). */
async function serializedByFastify(data: StoredMessage[]): Promise<string> {
  const app = Fastify();
  app.get(
    '/',
    { schema: { response: { 200: Type.Array(StoredMessageSchema) } } },
    async () => data,
  );
  const response = await app.inject({ url: '/' });
  await app.close();
  return response.body;
}

describe('jsonPageOf', () => {
  it('writes the bytes the response schema writes, for every kind of string', async () => {
    const data: StoredMessage[] = awkward.map((text, i) => ({
      message_id: `${text}-${i}`,
      from: '+15550001',
      to: text,
      ts: '2025-01-15T10:00:00.5Z',
      text: i === 1 ? null : text,
    }));
    const page = jsonPageOf({ data, total: 99, more: true });
    assert.equal(page.json, await serializedByFastify(data));
    assert.deepEqual(JSON.parse(page.json), data);
    assert.deepEqual([page.total, page.more], [99, true]);
    assert.deepEqual(page.last, positionOf(data.at(-1) as StoredMessage));
  });

  it('leaves out anything but the five fields, in their order', async () => {
    const row = { text: 't', ts: '2025-01-15T10:00:00Z', to: '+2', from: '+1', message_id: 'm' };
    const extra = { ...row, source: 'webhook', payload: { secret: 'x' } } as StoredMessage;
    const page = jsonPageOf({ data: [extra], total: 1, more: false });
    assert.equal(
      page.json,
      '[{"message_id":"m","from":"+1","to":"+2","ts":"2025-01-15T10:00:00Z","text":"t"}]',
    );
  });

  it('gives an empty page no last position', () => {
    assert.deepEqual(jsonPageOf({ data: [], total: 0, more: false }), {
      json: '[]',
      total: 0,
      more: false,
      last: null,
    });
  });
});
