import type { Stats } from '../store.js';
import { STATS_SQL } from './sql.js';

type Query = <R extends object>(config: { name?: string; text: string }) => Promise<{ rows: R[] }>;

/** GET /stats in one statement: one snapshot, so the figures agree with each other. */
export async function readStats(query: Query): Promise<Stats> {
  const { rows } = await query<{
    total: string;
    senders: string;
    per_sender: { from: string; count: number }[];
    first_ts: string | null;
    last_ts: string | null;
  }>({ name: 'stats', text: STATS_SQL });
  const row = rows[0];
  return {
    total_messages: Number(row?.total ?? 0),
    senders_count: Number(row?.senders ?? 0),
    messages_per_sender: (row?.per_sender ?? []).map(({ from, count }) => ({
      from,
      count: Number(count),
    })),
    first_message_ts: row?.first_ts ?? null,
    last_message_ts: row?.last_ts ?? null,
  };
}
