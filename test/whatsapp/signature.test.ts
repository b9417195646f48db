import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hubSignature, verifyHubSignature } from '../../src/whatsapp/signature.js';

describe('X-Hub-Signature-256', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","x":"caf\\u00e9"}');
  const good = hubSignature('secret', body);

  it('verifies sha256= and the hex HMAC of the raw bytes, in either case, with any listed secret', () => {
    assert.match(good, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyHubSignature(['secret'], body, good), true);
    assert.equal(
      verifyHubSignature(['secret'], body, `sha256=${good.slice(7).toUpperCase()}`),
      true,
    );
    assert.equal(verifyHubSignature(['new', 'secret'], body, good), true);
  });

  it('refuses other secrets, other bytes and other forms', () => {
    assert.equal(verifyHubSignature(['other'], body, good), false);
    assert.equal(verifyHubSignature([], body, good), false);
    const reencoded = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    assert.equal(verifyHubSignature(['secret'], reencoded, good), false);
    for (const header of [
      undefined,
      '',
      good.slice(7),
      `SHA256=${good.slice(7)}`,
      `${good}0`,
      `${good} `,
    ]) {
      assert.equal(verifyHubSignature(['secret'], body, header), false, String(header));
    }
  });
});
