import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { sign, verify } from '../src/signature.js';

const body = Buffer.from('{"message_id":"m1"}');
const expected = createHmac('sha256', 'k').update(body).digest('hex');

describe('signature', () => {
  it('signs with HMAC-SHA256 as hex', () => {
    assert.equal(sign('k', body), expected);
    assert.equal(sign('k', body.toString()), expected);
  });

  it('accepts the hex digest in either case, with or without sha256=', () => {
    assert.ok(verify(['k'], body, expected), 'lowercase');
    assert.ok(verify(['k'], body, expected.toUpperCase()), 'uppercase');
    assert.ok(verify(['k'], body, `sha256=${expected}`), 'prefixed');
    assert.ok(verify(['k'], body, `SHA256=${expected}`), 'uppercase prefix');
  });

  it('rejects missing, malformed, truncated or wrong signatures', () => {
    for (const header of [
      undefined,
      '',
      expected.slice(0, 63),
      `${expected}0`,
      `${expected.slice(0, 63)}g`,
      ` ${expected}`,
      `${expected} `,
      `sha1=${expected}`,
      `sha256:${expected}`,
      sign('other', body),
      sign('k', Buffer.from('{"message_id":"m2"}')),
    ]) {
      assert.equal(verify(['k'], body, header), false, String(header));
    }
  });

  it('accepts a signature made with either configured secret, and no other', () => {
    const secrets = ['new', 'old'];
    assert.ok(verify(secrets, body, sign('new', body)), 'current secret');
    assert.ok(verify(secrets, body, sign('old', body)), 'previous secret');
    assert.equal(verify(secrets, body, sign('other', body)), false);
    assert.equal(verify(['new'], body, sign('old', body)), false, 'previous secret once removed');
    assert.equal(verify([], body, sign('new', body)), false, 'no secret accepts nothing');
  });

  it('covers the exact bytes: re-encoding the same JSON breaks the signature', () => {
    const spaced = Buffer.from('{"message_id": "m1"}');
    assert.equal(verify(['k'], spaced, expected), false);
  });
});
