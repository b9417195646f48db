import type { Page } from './store.js';

/**
 * Deep offsets without reading every skipped row. The totals kept per UTC hour (and per sender and
 * UTC day) say how many messages lie before any hour (or day): a page at offset N starts at the
 * first period that N does not skip whole, and skips only within it. For `since`, the part of its
 * own period after `since` is the first "period" (counted along the index, as the total is).
 * Exact: the kept totals are written in the same transactions as the rows, and read in the same
 * snapshot as the page.
 */

/** Offsets below this are cheaper to walk than to seek. */
export const SEEK_OFFSET = 1000;

/** Whether a page of `plan` (a filter without `q`) at `page` seeks. */
export function seeks(page: Page): boolean {
  return page.after === undefined && page.offset >= SEEK_OFFSET;
}

/** Periods of the kept totals in list order: where each starts (µs) and how many it holds. */
export interface Period {
  start: bigint;
  messages: number;
}

/** Where the page starts instead (ts_us >= start), and the offset left to skip from there. */
export interface Seek {
  start: bigint;
  offset: number;
}

/** The first period the offset does not skip whole; past the last one, an empty page. */
export function seek(periods: Iterable<Period>, offset: number): Seek {
  let skipped = 0;
  for (const period of periods) {
    if (skipped + period.messages > offset)
      return { start: period.start, offset: offset - skipped };
    skipped += period.messages;
  }
  return { start: END_OF_TIME, offset: 0 };
}

/** Later than any instant a message can have (the largest 64-bit integer). */
export const END_OF_TIME = 9_223_372_036_854_775_807n;
