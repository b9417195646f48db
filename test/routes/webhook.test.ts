import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sign } from '../../src/signature.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { message, postWebhook, SECRET, storeKinds, type TestApp, testApp } from '../helpers.js';

async function stored(t: TestApp) {
  return (await t.store.list({}, { limit: 100, offset: 0 })).data;
}

function webhookLines(t: TestApp) {
  return t.logs.requests().filter((line) => line.path === '/webhook');
}

function issues(body: string): { loc: unknown[]; msg: string; type: string }[] {
  const parsed = JSON.parse(body);
  assert.ok(Array.isArray(parsed.detail), body);
  return parsed.detail;
}

/** Asserts a 422 whose only problem is `type` at ["body", field]. */
function assertOneIssue(
  response: { statusCode: number; body: string },
  field: string,
  type: string,
  label = field,
) {
  assert.equal(response.statusCode, 422, label);
  assert.deepEqual(
    issues(response.body).map((i) => [i.loc, i.type]),
    [[['body', field], type]],
    label,
  );
}

for (const kind of storeKinds()) {
  describe(`POST /webhook (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind });
    });
    afterEach(() => t.close());

    describe('a valid message', () => {
      it('is stored and acknowledged with 200 {"status": "ok"}', async () => {
        const response = await postWebhook(t.app, message());
        assert.equal(response.statusCode, 200);
        assert.deepEqual(response.json(), { status: 'ok' });
        assert.deepEqual(await stored(t), [
          {
            message_id: 'm1',
            from: '+919876543210',
            to: '+14155550100',
            ts: '2025-01-15T10:00:00Z',
            text: 'Hello',
          },
        ]);
      });

      it('logs one INFO line with message_id, dup=false and result=created', async () => {
        await postWebhook(t.app, message());
        const [line, ...rest] = webhookLines(t);
        assert.equal(rest.length, 0);
        assert.equal(line?.level, 'INFO');
        assert.equal(line?.message_id, 'm1');
        assert.equal(line?.dup, false);
        assert.equal(line?.result, 'created');
        assert.equal(line?.status, 200);
      });

      it('may omit text or send null: stored as null', async () => {
        await postWebhook(t.app, message({ message_id: 'absent', text: undefined }));
        await postWebhook(t.app, message({ message_id: 'null', text: null }));
        const rows = await stored(t);
        assert.deepEqual(
          rows.map((r) => [r.message_id, r.text]),
          [
            ['absent', null],
            ['null', null],
          ],
        );
      });

      it('keeps text, ids and ts exactly as sent', async () => {
        const text = 'Héllo 👋🏽 \u0000 "quoted" \\ back\nslash \u2028 ‮ 你好 𝒳';
        const id = 'id with spaces / ünïcödé 😀';
        const ts = '2025-01-15T10:00:00.120Z';
        await postWebhook(t.app, message({ message_id: id, text, ts }));
        const [row] = await stored(t);
        assert.equal(row?.message_id, id);
        assert.equal(row?.text, text);
        assert.equal(row?.ts, ts);
      });

      it('ignores unknown fields', async () => {
        const response = await postWebhook(
          t.app,
          message({ extra: { nested: [1, 2] }, priority: 5 }),
        );
        assert.equal(response.statusCode, 200);
        const [row] = await stored(t);
        assert.deepEqual(Object.keys(row ?? {}).sort(), ['from', 'message_id', 'text', 'to', 'ts']);
      });

      it('is read from the exact bytes: any JSON spacing and key order verify and store', async () => {
        const body =
          '{ "text" : "hi" ,\n "ts":"2025-01-15T10:00:00Z", "to":"+14155550100","from":"+919876543210","message_id":"m9"}';
        const response = await postWebhook(t.app, body);
        assert.equal(response.statusCode, 200);
        assert.equal((await stored(t))[0]?.message_id, 'm9');
      });

      it('takes the last of duplicate keys, as JSON parsers do', async () => {
        const body =
          '{"message_id":"first","message_id":"last","from":"+919876543210","to":"+14155550100","ts":"2025-01-15T10:00:00Z"}';
        assert.equal((await postWebhook(t.app, body)).statusCode, 200);
        assert.deepEqual(
          (await stored(t)).map((r) => r.message_id),
          ['last'],
        );
      });

      it('accepts the boundaries: 256-character id, 4096 emoji of text, 15-digit and 2-digit numbers', async () => {
        const response = await postWebhook(
          t.app,
          message({
            message_id: 'i'.repeat(256),
            text: '😀'.repeat(4096),
            from: '+123456789012345',
            to: '+12',
          }),
        );
        assert.equal(response.statusCode, 200, response.body);
        const [row] = await stored(t);
        assert.equal(row?.text, '😀'.repeat(4096));
      });
    });

    describe('a repeated message_id', () => {
      it('is acknowledged with 200 and changes nothing: the first version wins', async () => {
        await postWebhook(t.app, message({ text: 'first' }));
        const again = await postWebhook(
          t.app,
          message({ text: 'second', from: '+14155550199', ts: '2026-01-01T00:00:00Z' }),
        );
        assert.equal(again.statusCode, 200);
        assert.deepEqual(again.json(), { status: 'ok' });
        const rows = await stored(t);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]?.text, 'first');
        assert.equal(rows[0]?.from, '+919876543210');
        const [first, second] = webhookLines(t);
        assert.equal(first?.result, 'created');
        assert.equal(second?.result, 'duplicate');
        assert.equal(second?.dup, true);
        assert.equal(second?.message_id, 'm1');
      });

      it('sent concurrently, stores one row and counts exactly one created', async () => {
        const bodies = Array.from({ length: 25 }, (_, i) => message({ text: `version ${i}` }));
        const responses = await Promise.all(bodies.map((body) => postWebhook(t.app, body)));
        assert.deepEqual(
          responses.map((r) => r.statusCode),
          bodies.map(() => 200),
        );
        assert.equal((await stored(t)).length, 1);
        const results = webhookLines(t).map((line) => line.result);
        assert.equal(results.filter((r) => r === 'created').length, 1);
        assert.equal(results.filter((r) => r === 'duplicate').length, 24);
        const metrics = (await t.app.inject('/metrics')).body;
        assert.match(metrics, /^webhook_requests_total\{result="created"\} 1$/m);
        assert.match(metrics, /^webhook_requests_total\{result="duplicate"\} 24$/m);
      });

      it('interleaved with new ids, gives each request its own outcome', async () => {
        const ids = ['a', 'b', 'a', 'c', 'b', 'a'];
        const responses = await Promise.all(
          ids.map((id) => postWebhook(t.app, message({ message_id: id }))),
        );
        assert.ok(
          responses.every((r) => r.statusCode === 200),
          'all 200',
        );
        const byId = new Map<string, string[]>();
        for (const line of webhookLines(t)) {
          const list = byId.get(line.message_id as string) ?? [];
          list.push(line.result as string);
          byId.set(line.message_id as string, list);
        }
        for (const [id, results] of byId) {
          assert.equal(results.filter((r) => r === 'created').length, 1, id);
          assert.equal(results.length, ids.filter((x) => x === id).length, id);
        }
        assert.deepEqual((await stored(t)).map((r) => r.message_id).sort(), ['a', 'b', 'c']);
      });
    });

    describe('the signature', () => {
      const exact401 = (response: { statusCode: number; body: string }) => {
        assert.equal(response.statusCode, 401);
        assert.deepEqual(JSON.parse(response.body), { detail: 'invalid signature' });
      };

      it('missing: 401 {"detail": "invalid signature"}, nothing stored, ERROR line', async () => {
        const response = await t.app.inject({
          method: 'POST',
          url: '/webhook',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(message()),
        });
        exact401(response);
        assert.deepEqual(await stored(t), []);
        const [line] = webhookLines(t);
        assert.equal(line?.level, 'ERROR');
        assert.equal(line?.result, 'invalid_signature');
        assert.equal(line?.dup, false);
        assert.equal('message_id' in (line ?? {}), false);
      });

      it('wrong, malformed or for other bytes: 401 and nothing stored', async () => {
        const body = JSON.stringify(message());
        for (const signature of [
          'deadbeef',
          sign('wrong-secret', body),
          sign(SECRET, `${body} `),
          `${sign(SECRET, body)}00`,
          'z'.repeat(64),
          '',
          `sha1=${sign(SECRET, body)}`,
        ]) {
          exact401(await postWebhook(t.app, body, { headers: { 'x-signature': signature } }));
        }
        assert.deepEqual(await stored(t), []);
      });

      it('accepts uppercase hex and the sha256= prefix', async () => {
        const body = JSON.stringify(message());
        const upper = await postWebhook(t.app, body, {
          headers: { 'x-signature': sign(SECRET, body).toUpperCase() },
        });
        assert.equal(upper.statusCode, 200);
        const prefixed = JSON.stringify(message({ message_id: 'm2' }));
        const response = await postWebhook(t.app, prefixed, {
          headers: { 'x-signature': `sha256=${sign(SECRET, prefixed)}` },
        });
        assert.equal(response.statusCode, 200);
        assert.equal((await stored(t)).length, 2);
      });

      it('is checked before the body is parsed: bad JSON with a bad signature is a 401', async () => {
        exact401(
          await postWebhook(t.app, '{not json', { headers: { 'x-signature': 'ab'.repeat(32) } }),
        );
        exact401(
          await postWebhook(t.app, '{"message_id": 5}', {
            headers: { 'x-signature': 'ab'.repeat(32) },
          }),
        );
      });
    });

    describe('the body', () => {
      it('not UTF-8: 422 at ["body"]', async () => {
        const body = Buffer.concat([
          Buffer.from('{"message_id":"m1","text":"'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('"}'),
        ]);
        const response = await postWebhook(t.app, body);
        assert.equal(response.statusCode, 422);
        assert.deepEqual(
          issues(response.body).map((i) => i.loc),
          [['body']],
        );
        assert.deepEqual(await stored(t), []);
      });

      it('not JSON, or JSON with a byte-order mark: 422 at ["body"]', async () => {
        for (const body of ['', '{', 'hello', '{"message_id": "m1",}', '\ufeff{}', 'NaN']) {
          const response = await postWebhook(t.app, body);
          assert.equal(response.statusCode, 422, JSON.stringify(body));
          const [issue, ...more] = issues(response.body);
          assert.deepEqual(issue?.loc, ['body']);
          assert.equal(issue?.type, 'json_invalid');
          assert.equal(more.length, 0);
        }
      });

      it('JSON but not an object: 422 at ["body"]', async () => {
        for (const body of ['[]', '[{"message_id":"m1"}]', '"m1"', '42', 'null', 'true']) {
          const response = await postWebhook(t.app, body);
          assert.equal(response.statusCode, 422, body);
          assert.deepEqual(issues(response.body), [
            {
              loc: ['body'],
              msg: 'Input should be a valid dictionary or object to extract fields from',
              type: 'model_attributes_type',
            },
          ]);
        }
      });

      it('missing fields: one "missing" entry per field', async () => {
        const response = await postWebhook(t.app, {});
        assert.equal(response.statusCode, 422);
        assert.deepEqual(
          issues(response.body)
            .map((i) => [i.loc, i.type])
            .sort(),
          [
            [['body', 'from'], 'missing'],
            [['body', 'message_id'], 'missing'],
            [['body', 'to'], 'missing'],
            [['body', 'ts'], 'missing'],
          ],
        );
      });

      it('wrong JSON types are rejected, never coerced', async () => {
        const cases: [Record<string, unknown>, string][] = [
          [{ message_id: 5 }, 'message_id'],
          [{ message_id: null }, 'message_id'],
          [{ message_id: ['m1'] }, 'message_id'],
          [{ from: 919876543210 }, 'from'],
          [{ to: true }, 'to'],
          [{ ts: 1736935200 }, 'ts'],
          [{ text: 5 }, 'text'],
          [{ text: false }, 'text'],
          [{ text: ['hi'] }, 'text'],
          [{ text: { s: 'hi' } }, 'text'],
        ];
        for (const [override, field] of cases) {
          const response = await postWebhook(t.app, message(override));
          assertOneIssue(response, field, 'string_type', JSON.stringify(override));
        }
        assert.deepEqual(await stored(t), []);
      });

      it('message_id: empty, over 256 characters, or not Unicode text is invalid', async () => {
        const cases: [unknown, string][] = [
          ['', 'string_too_short'],
          ['i'.repeat(257), 'string_too_long'],
          ['😀'.repeat(257), 'string_too_long'],
          ['bad \ud800 surrogate', 'string_unicode'],
        ];
        for (const [id, type] of cases) {
          assertOneIssue(await postWebhook(t.app, message({ message_id: id })), 'message_id', type);
        }
      });

      it('from and to must be E.164 exactly', async () => {
        for (const phone of [
          '919876543210',
          '+0919876543210',
          '+1',
          '+1234567890123456',
          '+',
          '',
          '+91 98765 43210',
          '+91-9876543210',
          '+919876543210\n',
          ' +919876543210',
          '+９１９８７６５４３２１０',
          '+٩١٩٨٧٦٥٤٣٢١٠',
          '00919876543210',
        ]) {
          for (const field of ['from', 'to']) {
            assertOneIssue(
              await postWebhook(t.app, message({ [field]: phone })),
              field,
              'string_pattern_mismatch',
              `${field}=${JSON.stringify(phone)}`,
            );
          }
        }
        assert.deepEqual(await stored(t), []);
      });

      it('ts must be a real UTC instant in the contract form', async () => {
        for (const ts of [
          '2025-02-30T00:00:00Z',
          '2025-01-15T24:00:00Z',
          '2025-01-15T10:00:00+05:30',
          '2025-01-15T10:00:00z',
          '2025-01-15T10:00:00',
          '2025-01-15T10:00:00.1234567Z',
          '2025-01-15',
          'yesterday',
        ]) {
          assertOneIssue(await postWebhook(t.app, message({ ts })), 'ts', 'datetime_parsing', ts);
        }
      });

      it('text: at most 4096 code points', async () => {
        assertOneIssue(
          await postWebhook(t.app, message({ text: '😀'.repeat(4097) })),
          'text',
          'string_too_long',
        );
        const ascii = await postWebhook(t.app, message({ text: 'a'.repeat(4097) }));
        assert.equal(ascii.statusCode, 422);
        const unpaired = await postWebhook(t.app, message({ text: 'x\udc00y' }));
        assert.equal(unpaired.statusCode, 422);
        assert.deepEqual(await stored(t), []);
      });

      it('reports every problem, one entry each', async () => {
        const response = await postWebhook(t.app, {
          message_id: '',
          from: 'nobody',
          to: 5,
          ts: '2025-13-01T00:00:00Z',
          text: 'x'.repeat(5000),
        });
        assert.equal(response.statusCode, 422);
        assert.deepEqual(
          issues(response.body)
            .map((i) => i.loc[1])
            .sort(),
          ['from', 'message_id', 'text', 'to', 'ts'],
        );
        for (const issue of issues(response.body)) assert.ok(issue.msg.length > 0, 'has a message');
      });

      it('logs message_id on a 422 when it is a non-empty string, and never otherwise', async () => {
        await postWebhook(t.app, message({ message_id: 'valid-id', from: 'bad' }));
        await postWebhook(t.app, message({ message_id: 7 }));
        await postWebhook(t.app, message({ message_id: '' }));
        const lines = webhookLines(t);
        assert.deepEqual(
          lines.map((l) => [l.status, l.result, l.message_id]),
          [
            [422, 'validation_error', 'valid-id'],
            [422, 'validation_error', undefined],
            [422, 'validation_error', undefined],
          ],
        );
      });
    });

    describe('size, content type and method', () => {
      it('a body over MAX_BODY_BYTES is a 413 before anything else; exactly the limit is read', async () => {
        const small = await testApp({ kind, maxBodyBytes: 200 });
        try {
          const fits = JSON.stringify(message({ text: '' }));
          const exact = JSON.stringify(message({ text: 'x'.repeat(200 - fits.length) }));
          assert.equal(Buffer.byteLength(exact), 200);
          assert.equal((await postWebhook(small.app, exact)).statusCode, 200);
          const over = JSON.stringify(
            message({ message_id: 'm2', text: 'x'.repeat(201 - fits.length) }),
          );
          const response = await postWebhook(small.app, over);
          assert.equal(response.statusCode, 413);
          assert.equal(typeof response.json().detail, 'string');
          // size comes before content type and signature
          const unsigned = await small.app.inject({
            method: 'POST',
            url: '/webhook',
            headers: { 'content-type': 'text/plain' },
            payload: 'x'.repeat(500),
          });
          assert.equal(unsigned.statusCode, 413);
          assert.equal((await stored(small)).length, 1);
          const lines = small.logs.requests();
          assert.deepEqual(
            lines.map((l) => [l.status, l.result, 'message_id' in l]),
            [
              [200, 'created', true],
              [413, 'payload_too_large', false],
              [413, 'payload_too_large', false],
            ],
          );
        } finally {
          await small.close();
        }
      });

      it('multi-byte characters count as bytes, not characters', async () => {
        const small = await testApp({ kind, maxBodyBytes: 200 });
        try {
          const body = JSON.stringify(message({ text: 'é'.repeat(60) }));
          assert.ok(
            body.length < 200 && Buffer.byteLength(body) > 200,
            'under in characters, over in bytes',
          );
          assert.equal((await postWebhook(small.app, body)).statusCode, 413);
        } finally {
          await small.close();
        }
      });

      it('content type other than application/json, or none: 415 before the signature', async () => {
        const body = JSON.stringify(message());
        for (const type of [
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/jsonx',
          'application/json-patch+json',
          'multipart/form-data; boundary=x',
        ]) {
          const response = await postWebhook(t.app, body, {
            headers: { 'content-type': type, 'x-signature': 'bad' },
          });
          assert.equal(response.statusCode, 415, type);
          assert.equal(typeof response.json().detail, 'string');
        }
        const none = await t.app.inject({
          method: 'POST',
          url: '/webhook',
          payload: body,
          headers: { 'x-signature': sign(SECRET, body) },
        });
        assert.equal(none.statusCode, 415);
        const bodyless = await t.app.inject({ method: 'POST', url: '/webhook' });
        assert.equal(bodyless.statusCode, 415);
        assert.deepEqual(await stored(t), []);
        const lines = webhookLines(t);
        assert.equal(lines.length, 7, 'one log line per request');
        assert.ok(
          lines.every((l) => l.result === 'unsupported_media_type' && !('message_id' in l)),
          'logged as unsupported_media_type without message_id',
        );
      });

      it('a compressed body (Content-Encoding) is a 415', async () => {
        const response = await postWebhook(t.app, message(), {
          headers: { 'content-encoding': 'gzip' },
        });
        assert.equal(response.statusCode, 415);
        assert.match(response.json().detail, /encoding/);
        const identity = await postWebhook(t.app, message(), {
          headers: { 'content-encoding': 'identity' },
        });
        assert.equal(identity.statusCode, 200);
      });

      it('application/json in any case and with parameters is accepted', async () => {
        const types = [
          'application/json; charset=utf-8',
          'Application/JSON',
          'APPLICATION/JSON;charset=UTF-8',
          'application/json ; charset="utf-8"',
        ];
        for (const [i, type] of types.entries()) {
          const response = await postWebhook(t.app, message({ message_id: `m${i}` }), {
            headers: { 'content-type': type },
          });
          assert.equal(response.statusCode, 200, type);
        }
        assert.equal((await stored(t)).length, types.length);
      });

      it('other methods: 405 with Allow: POST', async () => {
        const methods = ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
        for (const method of methods) {
          const response = await t.app.inject({
            method,
            url: '/webhook',
            payload: method === 'GET' || method === 'HEAD' ? undefined : '{}',
          });
          assert.equal(response.statusCode, 405, method);
          assert.equal(response.headers.allow, 'POST');
        }
        const lines = webhookLines(t);
        assert.deepEqual(
          lines.map((l) => l.method),
          [...methods],
          'one log line per request',
        );
        assert.ok(
          lines.every((l) => l.result === 'method_not_allowed'),
          'logged as method_not_allowed',
        );
      });
    });

    describe('when the service cannot accept', () => {
      it('no secret configured: 503 for a well-formed request, after the content-type check', async () => {
        const open = await testApp({ kind, secret: null });
        try {
          const response = await postWebhook(open.app, message());
          assert.equal(response.statusCode, 503);
          assert.equal(typeof response.json().detail, 'string');
          const wrongType = await postWebhook(open.app, message(), {
            headers: { 'content-type': 'text/plain' },
          });
          assert.equal(wrongType.statusCode, 415);
          assert.deepEqual(await stored(open), []);
          const [line] = open.logs.requests();
          assert.equal(line?.result, 'not_configured');
          assert.equal(line?.level, 'ERROR');
        } finally {
          await open.close();
        }
      });

      it('the store cannot take the write: 503 with a JSON body, never 200 or 500', async () => {
        const original = t.store.insert.bind(t.store);
        t.store.insert = () =>
          Promise.reject(new StoreUnavailableError('SQLITE_BUSY: database is locked'));
        const response = await postWebhook(t.app, message());
        assert.equal(response.statusCode, 503);
        assert.equal(typeof response.json().detail, 'string');
        assert.equal(response.headers['retry-after'], '1');
        const [line] = webhookLines(t);
        assert.equal(line?.result, 'unavailable');
        assert.equal(line?.level, 'ERROR');
        assert.equal(line?.message_id, 'm1');
        t.store.insert = original;
        assert.equal((await postWebhook(t.app, message())).statusCode, 200);
      });

      it('an error the service does not understand is a 500 with the same envelope', async () => {
        t.store.insert = () => Promise.reject(new Error('boom'));
        const response = await postWebhook(t.app, message());
        assert.equal(response.statusCode, 500);
        assert.deepEqual(response.json(), { detail: 'internal server error' });
        assert.equal(webhookLines(t)[0]?.result, 'error');
      });
    });
  });
}
