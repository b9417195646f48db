import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listQuery } from '../../src/store/postgres/list.js';

const page = { limit: 50, offset: 0 };
const kept = { epoch: 0, watermark: '100:100:', count: 7 };

describe('listQuery: which statements count a search from scratch', () => {
  it('a search over every sender counts from scratch', () => {
    for (const filter of [{ q: 'word' }, { q: 'word', since: 1n }]) {
      const query = listQuery(filter, page);
      assert.equal(query.counts, true);
      assert.match(query.text, /SELECT count\(\*\) FROM messages WHERE/);
    }
  });

  it("a search within one sender's messages counts from scratch too", () => {
    const query = listQuery({ from: '+15550001', q: 'word' }, page);
    assert.equal(query.counts, true);
  });

  it('a kept total is topped up: neither', () => {
    for (const filter of [{ q: 'word' }, { from: '+15550001', q: 'word' }]) {
      const query = listQuery(filter, page, kept);
      assert.equal(query.counts, false);
      assert.match(query.text, /pg_visible_in_snapshot/);
    }
  });

  it('filters without q read kept totals: neither', () => {
    for (const filter of [
      {},
      { from: '+15550001' },
      { since: 1n },
      { from: '+15550001', since: 1n },
    ]) {
      const query = listQuery(filter, page);
      assert.equal(query.counts, false);
      assert.doesNotMatch(query.text, /text_folded LIKE/);
    }
  });
});
