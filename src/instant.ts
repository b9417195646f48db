/**
 * Timestamps as the contract defines them: `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`, a real UTC instant.
 *
 * Messages keep `ts` exactly as sent; ordering and the `since` filter use the instant it names,
 * as whole microseconds since the Unix epoch. That number is a bigint because years past 2255
 * (still valid ISO-8601) exceed the 2^53 range of a JavaScript number in microseconds.
 */

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;

const MICROS_PER_SECOND = 1_000_000n;
const SECONDS_PER_DAY = 86_400;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * The instant `ts` names, in microseconds since 1970-01-01T00:00:00Z, or `null` when `ts` is not
 * a timestamp of the contract's form or names no real instant (Feb 30th, hour 24, year 0000...).
 */
export function parseInstant(ts: string): bigint | null {
  const m = SHAPE.exec(ts);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, fraction] = m as unknown as [string, ...string[]];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const seconds =
    daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
  const micros = fraction === undefined ? 0 : Number(fraction.padEnd(6, '0'));
  return BigInt(seconds) * MICROS_PER_SECOND + BigInt(micros);
}

/** The instant of a timestamp already known to be valid; a TypeError if it is not. */
export function instantOf(ts: string): bigint {
  const instant = parseInstant(ts);
  if (instant === null) throw new TypeError(`not a timestamp: ${ts}`);
  return instant;
}

export function isInstant(ts: string): boolean {
  return parseInstant(ts) !== null;
}

export const MICROS_PER_HOUR = 3_600_000_000n;
export const MICROS_PER_DAY = 86_400_000_000n;

/**
 * The period of `length` microseconds (an hour, a day) an instant falls in, counted in whole
 * periods since the epoch, rounded down (also before 1970).
 */
export function periodOf(instant: bigint, length: bigint): bigint {
  const period = instant / length;
  return instant < 0n && instant % length !== 0n ? period - 1n : period;
}

export const hourOf = (instant: bigint): bigint => periodOf(instant, MICROS_PER_HOUR);
export const dayOf = (instant: bigint): bigint => periodOf(instant, MICROS_PER_DAY);
