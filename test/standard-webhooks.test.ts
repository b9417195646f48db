import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../src/config.js';
import {
  parseStandardKey,
  STANDARD_KEY_PATTERN,
  type StandardHeaders,
  signStandard,
  standardVerifier,
} from '../src/standard-webhooks.js';
import { startServer, stopServer } from './harness/server.js';
import { configError, message, tempDir } from './helpers.js';

/**
 * The Standard Webhooks rule on its own (src/standard-webhooks.ts), checked against the official
 * `standardwebhooks` package as the sender, the configuration that turns it on, and the built
 * server started with it.
 */

const key = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;
const KEY = key();
const OTHER = key(24);
const NOW = 1_750_000_000;
const CLOCK = () => NOW * 1000 + 999;
const BODY = Buffer.from('{"message_id":"m1","text":"héllo 👋"}');

function headers(overrides: Partial<StandardHeaders> = {}, secret = KEY): StandardHeaders {
  const id = overrides.id ?? 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const timestamp = overrides.timestamp ?? String(NOW);
  const signature = new Webhook(secret).sign(id, new Date(Number(timestamp) * 1000), BODY);
  return { id, timestamp, signature, ...overrides };
}

const verifier = (options: { previous?: string; tolerance?: number } = {}) =>
  standardVerifier({
    secret: KEY,
    previousSecret: options.previous ?? null,
    ...(options.tolerance === undefined ? {} : { toleranceSeconds: options.tolerance }),
    now: CLOCK,
  });

describe('Standard Webhooks keys', () => {
  it('are whsec_ and padded standard base64 of 24 to 64 bytes, whatever the bytes', () => {
    for (let bytes = 1; bytes <= 100; bytes++) {
      for (let round = 0; round < 5; round++) {
        const raw = randomBytes(bytes);
        const text = `whsec_${raw.toString('base64')}`;
        const parsed = parseStandardKey(text);
        if (bytes >= 24 && bytes <= 64) assert.deepEqual(parsed, raw, `${bytes} bytes`);
        else assert.equal(parsed, null, `${bytes} bytes`);
        assert.equal(new RegExp(STANDARD_KEY_PATTERN).test(text), parsed !== null);
      }
    }
  });

  it('refuse other spellings', () => {
    const base = randomBytes(32).toString('base64');
    for (const text of [
      base,
      `WHSEC_${base}`,
      `whsec_${base.replace(/=+$/, '')}`,
      `whsec_${randomBytes(32).toString('base64url')}`,
      `whsec_ ${base}`,
      `whsec_${base}\n`,
      `whsec_${base}=`,
      `whpk_${base}`,
      'whsec_',
      '',
    ]) {
      assert.equal(parseStandardKey(text), null, JSON.stringify(text));
    }
  });
});

describe('Standard Webhooks signing', () => {
  it('signs exactly as the official package does', () => {
    const raw = parseStandardKey(KEY);
    assert.ok(raw !== null, 'the key parses');
    for (const body of [BODY, Buffer.from(''), Buffer.from('{"a":"\\u00e9 é"}\n')]) {
      const official = new Webhook(KEY).sign('msg_1', new Date(NOW * 1000), body);
      assert.equal(signStandard(raw, 'msg_1', NOW, body), official);
      assert.equal(signStandard(raw, 'msg_1', String(NOW), body.toString()), official);
    }
  });

  it('is the base64 HMAC-SHA256 of id.timestamp.body under the decoded key', () => {
    const raw = parseStandardKey(KEY) as Buffer;
    const expected = createHmac('sha256', raw).update(`msg_1.${NOW}.`).update(BODY).digest();
    assert.equal(signStandard(raw, 'msg_1', NOW, BODY), `v1,${expected.toString('base64')}`);
  });
});

describe('Standard Webhooks verification', () => {
  it('accepts what the official package signs', () => {
    assert.equal(verifier().verify(BODY, headers()), null);
  });

  it('and the official package accepts what it verifies', () => {
    const given = headers({ timestamp: String(Math.floor(Date.now() / 1000)) });
    const now = standardVerifier({ secret: KEY });
    assert.equal(now.verify(BODY, given), null);
    const official = new Webhook(KEY).verify(BODY, {
      'webhook-id': given.id as string,
      'webhook-timestamp': given.timestamp as string,
      'webhook-signature': given.signature as string,
    });
    assert.deepEqual(official, JSON.parse(BODY.toString()));
  });

  it('needs each header, in this order', () => {
    const v = verifier();
    assert.equal(v.verify(BODY, { ...headers(), id: undefined }), 'missing_id');
    assert.equal(v.verify(BODY, { ...headers(), id: '' }), 'missing_id');
    assert.equal(v.verify(BODY, { ...headers(), timestamp: undefined }), 'missing_timestamp');
    assert.equal(v.verify(BODY, { ...headers(), timestamp: '' }), 'missing_timestamp');
    assert.equal(v.verify(BODY, { ...headers(), signature: undefined }), 'missing_signature');
    assert.equal(v.verify(BODY, { ...headers(), signature: '' }), 'missing_signature');
    assert.equal(
      v.verify(BODY, { id: undefined, timestamp: undefined, signature: undefined }),
      'missing_id',
    );
  });

  it('reads webhook-timestamp as whole unix seconds in ASCII digits only', () => {
    const v = verifier();
    for (const timestamp of [
      `-${NOW}`,
      `+${NOW}`,
      `${NOW}.0`,
      `${NOW}.5`,
      ` ${NOW}`,
      `${NOW} `,
      '1.75e9',
      '0x684ee180',
      '１７５００００００００',
      '١٧٥٠٠٠٠٠٠٠',
      'now',
      new Date(NOW * 1000).toISOString(),
    ]) {
      assert.equal(v.verify(BODY, headers({ timestamp })), 'malformed_timestamp', timestamp);
    }
  });

  it('accepts a timestamp exactly the tolerance away, either way, and refuses one second more', () => {
    for (const tolerance of [undefined, 1, 60, 86_400]) {
      const window = tolerance ?? 300;
      const v = verifier(tolerance === undefined ? {} : { tolerance });
      for (const offset of [0, window, -window]) {
        const given = headers({ timestamp: String(NOW + offset) });
        assert.equal(v.verify(BODY, given), null, `${offset} of ${window}`);
      }
      for (const offset of [window + 1, -window - 1]) {
        const given = headers({ timestamp: String(NOW + offset) });
        assert.equal(v.verify(BODY, given), 'outside_tolerance', `${offset} of ${window}`);
      }
    }
  });

  it('refuses timestamps far away, however many digits, without throwing', () => {
    const v = verifier();
    for (const timestamp of [
      '0',
      '1',
      '0000',
      `${NOW * 1000}`,
      '9'.repeat(400),
      '9'.repeat(9000),
    ]) {
      assert.equal(
        v.verify(BODY, headers({ timestamp })),
        'outside_tolerance',
        `${timestamp.length} digits`,
      );
    }
  });

  it('accepts one matching v1 entry among several, whatever else the header holds', () => {
    const v = verifier();
    const good = headers().signature as string;
    const wrong = headers({}, OTHER).signature as string;
    const asymmetric = `v1a,${randomBytes(64).toString('base64')}`;
    for (const signature of [
      `${wrong} ${good}`,
      `${good} ${wrong}`,
      `${asymmetric} ${good}`,
      `v2,${good.slice(3)} ${good}`,
      `  ${good}   `,
      `v1,!!! v1,${'A'.repeat(44)} v1 ${good}`,
      `${Array.from({ length: 200 }, () => wrong).join(' ')} ${good}`,
    ]) {
      assert.equal(v.verify(BODY, headers({ signature })), null, signature.slice(0, 60));
    }
  });

  it('ignores other versions: v1a alone, or a v1 signature under another label, never matches', () => {
    const v = verifier();
    const good = (headers().signature as string).slice(3);
    for (const signature of [
      `v1a,${good}`,
      `V1,${good}`,
      `v2,${good}`,
      `,${good}`,
      good,
      `v1a,${randomBytes(64).toString('base64')}`,
      `v1,${good},`,
      `v1,,${good}`,
    ]) {
      assert.equal(v.verify(BODY, headers({ signature })), 'no_match', signature);
    }
  });

  it('skips base64 that is malformed or not 32 bytes, never throwing', () => {
    const v = verifier();
    const good = (headers().signature as string).slice(3);
    const bytes = Buffer.from(good, 'base64');
    for (const value of [
      good.replace(/=$/, ''),
      `${good}=`,
      `${good}AAAA`,
      good.slice(4),
      Buffer.from(bytes).toString('base64url'),
      bytes.subarray(0, 31).toString('base64'),
      Buffer.concat([bytes, Buffer.from([0])]).toString('base64'),
      bytes.toString('hex'),
      `${good.slice(0, 10)}\u00e9${good.slice(11)}`,
      `${good.slice(0, 10)} ${good.slice(10)}`,
      '',
      '=',
      '😀'.repeat(22),
    ]) {
      assert.equal(v.verify(BODY, headers({ signature: `v1,${value}` })), 'no_match', value);
    }
  });

  it('refuses a wrong key, another body, id or timestamp, and a flipped bit', () => {
    const v = verifier();
    assert.equal(v.verify(BODY, headers({}, OTHER)), 'no_match');
    assert.equal(v.verify(Buffer.from(`${BODY} `), headers()), 'no_match');
    const signed = headers();
    assert.equal(v.verify(BODY, { ...signed, id: 'msg_other' }), 'no_match');
    assert.equal(v.verify(BODY, { ...signed, timestamp: String(NOW + 1) }), 'no_match');
    const bytes = Buffer.from((signed.signature as string).slice(3), 'base64');
    bytes[31] = (bytes[31] as number) ^ 1;
    assert.equal(
      v.verify(BODY, { ...signed, signature: `v1,${bytes.toString('base64')}` }),
      'no_match',
    );
  });

  it('accepts either key while a sender rotates, and only those', () => {
    const v = verifier({ previous: OTHER });
    assert.equal(v.verify(BODY, headers()), null);
    assert.equal(v.verify(BODY, headers({}, OTHER)), null);
    const both = `${headers({}, OTHER).signature} ${headers().signature}`;
    assert.equal(v.verify(BODY, headers({ signature: both })), null);
    assert.equal(v.verify(BODY, headers({}, key())), 'no_match');
    assert.equal(verifier().verify(BODY, headers({}, OTHER)), 'no_match');
  });

  it('signs the id as its header bytes: a non-ASCII id verifies only as the bytes sent', () => {
    const raw = parseStandardKey(KEY) as Buffer;
    const id = Buffer.from('msg_é').toString('latin1');
    const signature = new Webhook(KEY).sign('msg_é', new Date(NOW * 1000), BODY);
    assert.equal(verifier().verify(BODY, headers({ id, signature })), null);
    assert.equal(signStandard(raw, id, NOW, BODY), signature);
  });

  it('refuses a key that is not a whsec_ key when built', () => {
    assert.throws(() => standardVerifier({ secret: 'whsec_short' }));
    assert.throws(() => standardVerifier({ secret: KEY, previousSecret: 'plain-secret' }));
  });
});

describe('Standard Webhooks configuration', () => {
  it('is off by default, with a tolerance of 300 s', () => {
    const config = loadConfig({}, '/srv/app');
    assert.equal(config.standardWebhooksSecret, null);
    assert.equal(config.previousStandardWebhooksSecret, null);
    assert.equal(config.standardWebhooksToleranceSeconds, 300);
  });

  it('reads both keys and the tolerance; empty is unset', () => {
    const config = loadConfig({
      STANDARD_WEBHOOKS_SECRET: KEY,
      STANDARD_WEBHOOKS_SECRET_PREVIOUS: OTHER,
      STANDARD_WEBHOOKS_TOLERANCE_S: '0600',
    });
    assert.equal(config.standardWebhooksSecret, KEY);
    assert.equal(config.previousStandardWebhooksSecret, OTHER);
    assert.equal(config.standardWebhooksToleranceSeconds, 600);
    const empty = loadConfig({
      STANDARD_WEBHOOKS_SECRET: '',
      STANDARD_WEBHOOKS_SECRET_PREVIOUS: '',
      STANDARD_WEBHOOKS_TOLERANCE_S: '',
    });
    assert.equal(empty.standardWebhooksSecret, null);
    assert.equal(empty.standardWebhooksToleranceSeconds, 300);
  });

  it('names a malformed key without echoing it', () => {
    const short = `whsec_${randomBytes(16).toString('base64')}`;
    for (const variable of ['STANDARD_WEBHOOKS_SECRET', 'STANDARD_WEBHOOKS_SECRET_PREVIOUS']) {
      for (const value of [short, 'a-plain-secret', KEY.slice(6), `${KEY} `]) {
        const env: Record<string, string> = { STANDARD_WEBHOOKS_SECRET: KEY, [variable]: value };
        const error = configError(env);
        assert.equal(error.variable, variable);
        assert.match(error.message, new RegExp(`^${variable} is invalid: expected whsec_`));
        assert.match(error.message, /24 to 64 byte/);
        assert.ok(!error.message.includes(value.trim()), 'the value is not echoed');
      }
    }
  });

  it('refuses a previous key without a current one', () => {
    const error = configError({ STANDARD_WEBHOOKS_SECRET_PREVIOUS: KEY });
    assert.equal(error.variable, 'STANDARD_WEBHOOKS_SECRET_PREVIOUS');
    assert.ok(!error.message.includes(KEY), 'the key is not echoed');
  });

  it('takes a tolerance from 1 to 86400 whole seconds, and nothing else', () => {
    for (let seconds = 0; seconds <= 90_000; seconds++) {
      const text = String(seconds);
      if (seconds >= 1 && seconds <= 86_400) {
        assert.equal(
          loadConfig({ STANDARD_WEBHOOKS_TOLERANCE_S: text }).standardWebhooksToleranceSeconds,
          seconds,
        );
      } else {
        const error = configError({ STANDARD_WEBHOOKS_TOLERANCE_S: text });
        assert.equal(error.variable, 'STANDARD_WEBHOOKS_TOLERANCE_S', text);
      }
    }
    for (const text of ['-1', '1.5', '5m', '1e3', ' 300', '300s', '00']) {
      const error = configError({ STANDARD_WEBHOOKS_TOLERANCE_S: text });
      assert.equal(error.variable, 'STANDARD_WEBHOOKS_TOLERANCE_S', text);
      assert.match(error.message, /from 1 to 86400/);
    }
  });
});

describe('the built server with Standard Webhooks', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('stops at start with one JSON line naming a malformed key, without the key', async () => {
    const bad = `whsec_${randomBytes(16).toString('base64')}`;
    await assert.rejects(
      startServer({ STANDARD_WEBHOOKS_SECRET: bad, DATABASE_URL: 'sqlite://:memory:' }),
      (error: Error) => {
        const [reason, ...lines] = error.message.split('\n');
        assert.match(reason ?? '', /exited \(1\) before starting/);
        assert.equal(lines.length, 1, error.message);
        const line = JSON.parse(lines[0] as string);
        assert.equal(line.level, 'ERROR');
        assert.equal(line.variable, 'STANDARD_WEBHOOKS_SECRET');
        assert.match(line.msg, /STANDARD_WEBHOOKS_SECRET is invalid: expected whsec_/);
        assert.ok(!error.message.includes(bad.slice(6)), 'the key is not printed');
        return true;
      },
    );
  });

  it('with only STANDARD_WEBHOOKS_SECRET, is ready and stores what the official package sends', async () => {
    const server = await startServer({
      STANDARD_WEBHOOKS_SECRET: KEY,
      DATABASE_URL: `sqlite:///${join(dir.path, 'standard.db')}`,
    });
    try {
      const ready = await fetch(`${server.base}/health/ready`);
      assert.equal(ready.status, 200);
      assert.equal(await ready.text(), '{"status":"ok"}');
      const body = JSON.stringify(message({ message_id: 'e2e-standard' }));
      const id = `msg_${randomBytes(9).toString('hex')}`;
      const now = new Date();
      const response = await fetch(`${server.base}/webhook`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(KEY).sign(id, now, body),
        },
      });
      assert.equal(response.status, 200, await response.clone().text());
      const page = (await (await fetch(`${server.base}/messages`)).json()) as {
        data: { message_id: string }[];
      };
      assert.deepEqual(
        page.data.map((m) => m.message_id),
        ['e2e-standard'],
      );
      const started = server.lines.find((line) => line.msg === 'started');
      assert.equal(started?.standard_webhooks_configured, true);
      assert.equal(started?.standard_webhooks_tolerance_s, 300);
      assert.ok(
        server.lines.some(
          (line) => line.level === 'WARNING' && /only Standard/.test(String(line.msg)),
        ),
        'a warning says X-Signature requests are refused',
      );
    } finally {
      await stopServer(server);
    }
    assert.ok(
      !server.lines.some((line) => JSON.stringify(line).includes(KEY.slice(6))),
      'no key logged',
    );
  });
});
