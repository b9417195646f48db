import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { StoredMessage } from '../../src/store/store.js';
import { parseCsv } from '../harness/csv.js';
import { storeKinds, type TestApp, testApp } from '../helpers.js';
import { randomMessages } from '../store/contract.js';

const TOKEN = 'read-token-0123456789';

/** Every message /messages lists for `query`, walked page by page with next_cursor. */
async function walk(t: TestApp, query: string): Promise<StoredMessage[]> {
  const all: StoredMessage[] = [];
  let cursor: string | null = null;
  do {
    const url: string = `/messages?limit=100${query}${cursor === null ? '' : `&cursor=${cursor}`}`;
    const response = await t.app.inject(url);
    assert.equal(response.statusCode, 200, response.body);
    const page = response.json();
    all.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return all;
}

function fromCsv(body: string): StoredMessage[] {
  const [header, ...records] = parseCsv(body);
  assert.deepEqual(header, ['message_id', 'from', 'to', 'ts', 'text']);
  return records.map(([message_id, from, to, ts, text]) => {
    assert.ok(message_id && from && to && ts, 'every record has its four required fields');
    return { message_id, from, to, ts, text: text ?? null };
  });
}

const fromNdjson = (body: string): StoredMessage[] => {
  assert.ok(body === '' || body.endsWith('\n'), 'every line ends with a newline');
  return body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
};

const QUERIES = [
  '',
  '&from=%2B222',
  '&since=2025-01-15T09:30:00Z',
  '&q=a',
  '&from=%2B111&q=%C3%A9',
];

for (const kind of storeKinds()) {
  describe(`GET /messages/export (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await testApp({ kind });
    });
    afterEach(() => t.close());

    it('equals the paged /messages walk, in NDJSON and in CSV, across keyset chunks', async () => {
      // more than one chunk of 2000, with texts full of quotes, commas, line breaks and nulls
      const messages = randomMessages(2300, 13).map((m, i) => ({
        ...m,
        text: i % 7 === 0 ? `"=cmd",\r\n@x ${m.text}` : i % 11 === 0 ? '' : m.text,
      }));
      await Promise.all(messages.map((m) => t.store.insert(m)));
      for (const query of QUERIES) {
        const expected = await walk(t, query);
        assert.ok(expected.length > 0, `the query ${query} matches something`);
        const ndjson = await t.app.inject(`/messages/export?format=ndjson${query}`);
        assert.equal(ndjson.statusCode, 200);
        assert.equal(ndjson.headers['content-type'], 'application/x-ndjson; charset=utf-8');
        assert.deepEqual(fromNdjson(ndjson.body), expected, `ndjson ${query}`);
        const csv = await t.app.inject(`/messages/export?format=csv${query}`);
        assert.equal(csv.statusCode, 200);
        assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8; header=present');
        assert.deepEqual(fromCsv(csv.body), expected, `csv ${query}`);
      }
      assert.equal(
        fromNdjson((await t.app.inject('/messages/export')).body).length,
        messages.length,
        'ndjson is the default format, and every message is exported',
      );
    });

    it('writes CSV cells verbatim: +, =, -, @, quotes, CRLF, NUL, emoji; null vs empty text', async () => {
      const texts = [
        '=1+2',
        '-3',
        '@sum(A1)',
        '+44',
        'a "quoted", b',
        'x\r\ny\nz',
        'nul\u0000',
        '😀',
        '',
        null,
      ];
      for (const [i, text] of texts.entries()) {
        await t.store.insert({
          message_id: `c${i}, "id"`,
          from: '+14155550100',
          to: '+919876543210',
          ts: `2025-01-15T10:00:0${i}Z`,
          text,
        });
      }
      const response = await t.app.inject('/messages/export?format=csv');
      assert.ok(
        response.body.includes('\r\n"c0, ""id""",+14155550100,+919876543210,'),
        'quoted id',
      );
      assert.deepEqual(
        fromCsv(response.body).map((m) => m.text),
        texts,
      );
      assert.ok(
        response.body.endsWith(
          ',""\r\n"c9, ""id""",+14155550100,+919876543210,2025-01-15T10:00:09Z,\r\n',
        ),
        'empty text quoted, null empty',
      );
    });

    it('exports only a header (CSV) or nothing (NDJSON) when nothing matches', async () => {
      const csv = await t.app.inject('/messages/export?format=csv');
      assert.equal(csv.statusCode, 200);
      assert.equal(csv.body, 'message_id,from,to,ts,text\r\n');
      const ndjson = await t.app.inject('/messages/export');
      assert.equal(ndjson.statusCode, 200);
      assert.equal(ndjson.body, '');
    });

    it('refuses a bad format or filter with a 422 naming it', async () => {
      for (const [query, field] of [
        ['format=xml', 'format'],
        ['format=', 'format'],
        ['from=%2B0123', 'from'],
        ['from=%2B', 'from'],
        ['since=yesterday', 'since'],
        ['format=csv&format=csv', 'format'],
      ] as const) {
        const response = await t.app.inject(`/messages/export?${query}`);
        assert.equal(response.statusCode, 422, `${query}: ${response.body}`);
        assert.deepEqual(
          response.json().detail.map((issue: { loc: unknown[] }) => issue.loc),
          [['query', field]],
          query,
        );
      }
      const post = await t.app.inject({ method: 'POST', url: '/messages/export' });
      assert.equal(post.statusCode, 405);
    });
  });
}

describe('GET /messages/export with READ_TOKEN', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp({ readToken: TOKEN });
  });
  afterEach(() => t.close());

  it('needs the bearer token', async () => {
    await t.store.insert({ message_id: 'm', from: '+111', to: '+222', ts: '2025-01-15T10:00:00Z' });
    const refused = await t.app.inject('/messages/export');
    assert.equal(refused.statusCode, 401);
    assert.deepEqual(refused.json(), { detail: 'missing or invalid bearer token' });
    const wrong = await t.app.inject({
      url: '/messages/export',
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    assert.equal(wrong.statusCode, 401);
    const allowed = await t.app.inject({
      url: '/messages/export',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(allowed.statusCode, 200);
    assert.equal(JSON.parse(allowed.body).message_id, 'm');
  });
});
