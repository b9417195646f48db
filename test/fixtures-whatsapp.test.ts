import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  type Envelope,
  expectedFrom,
  FIXTURE_DIR,
  FIXTURES,
  fixture,
  fixtureBytes,
} from './fixtures/whatsapp/index.js';

/** The WhatsApp fixtures are what they claim: Meta's envelope, escaped as Meta sends it. */

interface Item {
  id: string;
  timestamp: string;
  from?: string;
  from_user_id?: string;
}

function items(envelope: Envelope, kind: 'messages' | 'statuses'): Item[] {
  return envelope.entry.flatMap((entry) =>
    entry.changes
      .filter((change) => change.field === 'messages')
      .flatMap((change) => (change.value[kind] ?? []) as Item[]),
  );
}

describe('WhatsApp fixtures', () => {
  it('lists every file of the folder, and every listed file exists', () => {
    const files = readdirSync(FIXTURE_DIR)
      .filter((name) => name.endsWith('.json') && name !== 'expected.json')
      .map((name) => name.slice(0, -'.json'.length))
      .sort();
    assert.deepEqual(files, [...FIXTURES].sort());
  });

  for (const name of FIXTURES) {
    it(`${name}: Meta's envelope, ASCII only, and its expectation names its items`, () => {
      const bytes = fixtureBytes(name);
      assert.ok(
        bytes.every((byte) => byte < 0x80),
        'non-ASCII is escaped as \\uXXXX, as Meta sends it',
      );
      const envelope = fixture(name);
      assert.equal(envelope.object, 'whatsapp_business_account');
      assert.ok(envelope.entry.length > 0);
      for (const entry of envelope.entry) {
        assert.match(entry.id, /^[0-9]+$/);
        for (const change of entry.changes) assert.equal(typeof change.field, 'string');
      }
      const expected = expectedFrom(name);
      const messages = items(envelope, 'messages');
      const statuses = items(envelope, 'statuses');
      assert.deepEqual(
        expected.messages.map((m) => m.message_id),
        messages.map((m) => m.id),
      );
      assert.deepEqual(
        expected.statuses.map((s) => s.message_id),
        statuses.map((s) => s.id),
      );
      for (const item of [...messages, ...statuses]) {
        assert.match(item.timestamp, /^[0-9]+$/, 'whole unix seconds');
      }
      for (const [i, message] of expected.messages.entries()) {
        const seconds = Number(messages[i]?.timestamp);
        assert.equal(message.ts, `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`);
      }
    });
  }

  it('gives each message its own id, and covers every kind the issue lists', () => {
    const ids = FIXTURES.flatMap((name) => expectedFrom(name).messages.map((m) => m.message_id));
    assert.equal(new Set(ids).size, ids.length);
    const types = new Set(
      FIXTURES.flatMap((name) => expectedFrom(name).messages.map((m) => m.type)),
    );
    for (const type of ['text', 'image', 'video', 'document', 'audio', 'sticker', 'reaction']) {
      assert.ok(types.has(type), type);
    }
    for (const type of ['interactive', 'button', 'location', 'contacts', 'system', 'unsupported']) {
      assert.ok(types.has(type), type);
    }
    const statuses = new Set(
      FIXTURES.flatMap((name) => expectedFrom(name).statuses.map((s) => s.status)),
    );
    assert.deepEqual([...statuses].sort(), ['delivered', 'failed', 'read', 'sent']);
  });

  it('has a sender known only by a business-scoped user id', () => {
    const [message] = items(fixture('bsuid'), 'messages');
    assert.equal(message?.from, undefined);
    assert.match(message?.from_user_id ?? '', /^[A-Z]{2}\.[A-Za-z0-9]{1,128}$/);
  });
});
