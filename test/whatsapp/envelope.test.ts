import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ISSUES, parseDelivery, tsOfUnix } from '../../src/whatsapp/envelope.js';
import { envelope, textItem } from '../harness/whatsapp.js';

const AT = '2026-12-02T09:00:00Z';

describe('WhatsApp envelope', () => {
  it('turns whole unix seconds into ts, and nothing else', () => {
    assert.equal(tsOfUnix('0'), '1970-01-01T00:00:00Z');
    assert.equal(tsOfUnix(1764669660), '2025-12-02T10:01:00Z');
    assert.equal(tsOfUnix('253402300799'), '9999-12-31T23:59:59Z');
    for (const bad of ['253402300800', '-1', '1.0', '', '1e3', 1.5, -1, null, undefined, '٣']) {
      assert.equal(tsOfUnix(bad), null, String(bad));
    }
  });

  it('maps a delivery to messages and statuses, counting changes of other fields', () => {
    const body = envelope(
      [textItem('m1', 'hello')],
      [
        {
          id: 's1',
          status: 'sent',
          timestamp: 1,
          recipient_id: '44',
          pricing: { category: 'utility' },
        },
      ],
    ) as { entry: { changes: unknown[] }[] };
    body.entry[0]?.changes.push({ field: 'account_update', value: { event: 'x' } });
    const parsed = parseDelivery(body, AT);
    assert.ok(parsed.ok, 'parsed');
    assert.equal(parsed.value.otherFields, 1);
    assert.deepEqual(parsed.value.delivery.messages[0]?.message, {
      message_id: 'm1',
      from: '+447700900123',
      to: '+15557850142',
      ts: '2025-12-02T10:01:00Z',
      text: 'hello',
    });
    assert.equal(parsed.value.delivery.messages[0]?.details.received_at, AT);
    assert.deepEqual(parsed.value.delivery.statuses, [
      {
        message_id: 's1',
        status: 'sent',
        ts: '1970-01-01T00:00:01Z',
        recipient: '+44',
        errors: [],
        category: 'utility',
        received_at: AT,
      },
    ]);
  });

  it('reports every problem, at most MAX_ISSUES, and ids too long or not Unicode', () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ ...textItem(`m${i}`), timestamp: 'x' }));
    const parsed = parseDelivery(envelope(items), AT);
    assert.ok(!parsed.ok, 'refused');
    assert.equal(parsed.issues.length, MAX_ISSUES);
    for (const id of ['x'.repeat(257), '\ud800', '', 5]) {
      const result = parseDelivery(envelope([{ ...textItem('a'), id }]), AT);
      assert.ok(!result.ok, JSON.stringify(id));
      assert.deepEqual(result.issues[0]?.loc.slice(-1), ['id']);
    }
    assert.ok(parseDelivery(envelope([{ ...textItem('a'), id: '😀'.repeat(256) }]), AT).ok);
  });
});
