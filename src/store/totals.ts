import { dayOf, hourOf, MICROS_PER_DAY, MICROS_PER_HOUR } from '../instant.js';
import type { ListFilter } from './store.js';

/**
 * How a store finds the `total` of GET /messages without counting a million rows. Every insert
 * keeps, in its own transaction, the number of messages, the count per sender, per UTC hour and
 * per sender and UTC day. This decides, for a filter without `q`, which of those answer it:
 *
 * - no filter: the overall total;
 * - `from`: the sender's count;
 * - `since`: the hours after the one `since` falls in, plus a count of the rest of its hour
 *   (an index range of at most an hour of messages);
 * - `from` and `since`: the sender's days after the one `since` falls in, plus a count of the
 *   rest of that day (an index range of at most a day of one sender's messages).
 *
 * A filter with `q` is counted by the store's search instead.
 */
export type TotalPlan =
  | { kind: 'all' }
  | { kind: 'sender'; from: string }
  | {
      kind: 'since';
      /** count the periods (hours) after this one in the kept totals */
      period: bigint;
      /** and count the rows from `since` up to `end` (the end of that period) */
      since: bigint;
      end: bigint;
    }
  | { kind: 'sender-since'; from: string; period: bigint; since: bigint; end: bigint };

export function planTotal(filter: Pick<ListFilter, 'from' | 'since'>): TotalPlan {
  const { from, since } = filter;
  if (since === undefined) return from === undefined ? { kind: 'all' } : { kind: 'sender', from };
  if (from === undefined) {
    const hour = hourOf(since);
    return { kind: 'since', period: hour, since, end: (hour + 1n) * MICROS_PER_HOUR };
  }
  const day = dayOf(since);
  return { kind: 'sender-since', from, period: day, since, end: (day + 1n) * MICROS_PER_DAY };
}
