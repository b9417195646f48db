import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInstant } from '../src/instant.js';

/** The same instant computed by the platform, for dates Date handles (years 1970..9999). */
function viaDate(ts: string): bigint {
  const ms = Date.parse(ts);
  const fraction = /\.(\d+)Z$/.exec(ts)?.[1] ?? '';
  const micros = Number(fraction.padEnd(6, '0').slice(3, 6) || 0);
  return BigInt(ms) * 1000n + BigInt(micros);
}

describe('parseInstant', () => {
  it('accepts the contract forms and agrees with Date', () => {
    for (const ts of [
      '2025-01-15T10:00:00Z',
      '2025-01-15T10:00:00.5Z',
      '2025-01-15T10:00:00.123456Z',
      '2024-02-29T23:59:59Z',
      '2000-02-29T00:00:00Z',
      '1970-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999Z',
    ]) {
      assert.equal(parseInstant(ts), viaDate(ts), ts);
    }
  });

  it('handles years before 1970 and before 100', () => {
    assert.equal(parseInstant('1969-12-31T23:59:59Z'), -1_000_000n);
    assert.equal(parseInstant('0001-01-01T00:00:00Z'), -62_135_596_800_000_000n);
  });

  it('orders by instant where strings disagree', () => {
    const a = parseInstant('2025-01-15T10:00:00Z') as bigint;
    const b = parseInstant('2025-01-15T10:00:00.5Z') as bigint;
    const c = parseInstant('2025-01-15T10:00:00.000001Z') as bigint;
    assert.ok(a < c && c < b, 'whole < micro < half');
    assert.equal(
      parseInstant('2025-01-15T10:00:00.5Z'),
      parseInstant('2025-01-15T10:00:00.500000Z'),
    );
  });

  it('rejects what is not a real UTC instant in the contract form', () => {
    for (const ts of [
      '2025-02-30T00:00:00Z',
      '2025-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2025-04-31T00:00:00Z',
      '2025-13-01T00:00:00Z',
      '2025-00-01T00:00:00Z',
      '2025-01-00T00:00:00Z',
      '2025-01-15T24:00:00Z',
      '2025-01-15T23:60:00Z',
      '2025-01-15T23:59:60Z',
      '0000-01-01T00:00:00Z',
      '2025-01-15T10:00:00+05:30',
      '2025-01-15T10:00:00+00:00',
      '2025-01-15T10:00:00z',
      '2025-01-15t10:00:00Z',
      '2025-01-15 10:00:00Z',
      '2025-01-15T10:00:00',
      '2025-01-15T10:00Z',
      '2025-01-15T10:00:00.Z',
      '2025-01-15T10:00:00.1234567Z',
      '2025-01-15T10:00:00Z\n',
      ' 2025-01-15T10:00:00Z',
      '+2025-01-15T10:00:00Z',
      '20250-01-15T10:00:00Z',
      '2025-1-15T10:00:00Z',
      '２０２５-01-15T10:00:00Z',
      '',
    ]) {
      assert.equal(parseInstant(ts), null, JSON.stringify(ts));
    }
  });
});
