/**
 * Reads back everything a server has stored, through its HTTP edge (GET /messages paged with
 * next_cursor, and GET /stats), and compares it with what the senders were told.
 */

import { type StoredMessage, sameStored, storedForm } from '../../test/harness/messages.js';
import type { Ledger } from './load.js';

interface Page {
  data: StoredMessage[];
  total: number;
  next_cursor?: string | null;
}

interface Stats {
  total_messages: number;
  senders_count: number;
  messages_per_sender: { from: string; count: number }[];
}

export interface Readback {
  /** every message listed, in list order */
  listed: StoredMessage[];
  /** `total` of the first page */
  total: number;
  stats: Stats;
}

async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const response = await fetch(url, { headers });
  if (response.status !== 200) {
    throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as T;
}

/** Every stored message, page by page (cursor paging; offset paging when there is no cursor). */
export async function readBack(
  base: string,
  headers: Record<string, string> = {},
): Promise<Readback> {
  const listed: StoredMessage[] = [];
  let total = -1;
  let cursor: string | null | undefined;
  for (let pages = 0; ; pages++) {
    const query =
      cursor === undefined || cursor === null
        ? `limit=100&offset=${pages === 0 ? 0 : listed.length}`
        : `limit=100&cursor=${encodeURIComponent(cursor)}`;
    const page = await getJson<Page>(`${base}/messages?${query}`, headers);
    if (total === -1) total = page.total;
    listed.push(...page.data);
    if (page.data.length === 0) break;
    if ('next_cursor' in page) {
      if (page.next_cursor === null || page.next_cursor === undefined) break;
      cursor = page.next_cursor;
    } else if (page.data.length < 100) {
      break;
    }
  }
  const stats = await getJson<Stats>(`${base}/stats`, headers);
  return { listed, total, stats };
}

export interface Comparison {
  acknowledged: number;
  /** acknowledged messages found stored, with the exact fields sent */
  acknowledgedStored: number;
  stored: number;
  /** stored messages that were sent but never acknowledged (allowed: the answer was lost) */
  storedUnacknowledged: number;
  violations: string[];
}

/** Every acknowledged message stored once and exactly; nothing stored that was not sent valid. */
export function compare(ledger: Ledger, readback: Readback): Comparison {
  const violations: string[] = [];
  const seen = new Map<string, StoredMessage>();
  for (const row of readback.listed) {
    if (seen.has(row.message_id))
      violations.push(`listed twice: ${JSON.stringify(row.message_id)}`);
    seen.set(row.message_id, row);
  }
  let acknowledgedStored = 0;
  for (const id of ledger.acknowledged) {
    const row = seen.get(id);
    const sent = ledger.sent.get(id);
    if (row === undefined) violations.push(`acknowledged but not stored: ${JSON.stringify(id)}`);
    else if (sent === undefined || !sameStored(row, storedForm(sent))) {
      violations.push(
        `stored differently: sent ${JSON.stringify(sent)}, stored ${JSON.stringify(row)}`,
      );
    } else acknowledgedStored++;
  }
  let storedUnacknowledged = 0;
  for (const [id, row] of seen) {
    if (ledger.refusedIds.has(id))
      violations.push(`stored although refused: ${JSON.stringify(id)}`);
    const sent = ledger.sent.get(id);
    if (sent === undefined) violations.push(`stored but never sent: ${JSON.stringify(row)}`);
    else if (!sameStored(row, storedForm(sent))) {
      violations.push(
        `stored differently: sent ${JSON.stringify(sent)}, stored ${JSON.stringify(row)}`,
      );
    }
    if (!ledger.acknowledged.has(id)) storedUnacknowledged++;
  }
  const { stats } = readback;
  const stored = seen.size;
  if (readback.total !== stored)
    violations.push(`GET /messages total ${readback.total}, listed ${stored}`);
  if (stats.total_messages !== stored) {
    violations.push(`/stats total_messages ${stats.total_messages}, listed ${stored}`);
  }
  const perSender = new Map<string, number>();
  for (const row of seen.values()) perSender.set(row.from, (perSender.get(row.from) ?? 0) + 1);
  if (stats.senders_count !== perSender.size) {
    violations.push(`/stats senders_count ${stats.senders_count}, listed ${perSender.size}`);
  }
  for (const { from, count } of stats.messages_per_sender) {
    if (perSender.get(from) !== count) {
      violations.push(`/stats counts ${count} for ${from}, listed ${perSender.get(from) ?? 0}`);
    }
  }
  return {
    acknowledged: ledger.acknowledged.size,
    acknowledgedStored,
    stored,
    storedUnacknowledged,
    violations,
  };
}
