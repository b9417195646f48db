import type pg from 'pg';
import { dayOf, hourOf } from '../../instant.js';
import type { DeleteBatch } from '../delete-batch.js';
import { ERASE_BATCH, type EraseTarget } from '../store.js';
import { BUMP_CHANGE_EPOCH_SQL } from './epoch.js';
import { classify } from './errors.js';
import { escapeText } from './escape.js';

/**
 * Deleting messages on PostgreSQL (erasure and retention). A batch is one transaction: it
 * deletes the rows, takes their share off every kept total, drops the totals that reach zero
 * and, for an erasure, keeps a tombstone of each id. The totals are changed in the order the
 * insert statement locks them (senders, hours, senders' days, then the totals row, each sorted),
 * so a batch and an insert wait for each other rather than deadlock. The trigram index follows
 * the rows by itself.
 */

const CHOOSE: Record<Exclude<DeleteBatch['target']['kind'], 'statuses-received-before'>, string> = {
  id: 'SELECT message_id FROM messages WHERE message_id = $1 LIMIT $2',
  sender: 'SELECT message_id FROM messages WHERE sender = $1 LIMIT $2',
  'received-before': 'SELECT message_id FROM messages WHERE received_at < $1 LIMIT $2',
};

/** Subtracts per-key counts (a negative upsert, in key order) and drops the keys left at 0. */
const SUBTRACT = {
  senders: `
    WITH changed AS (
      INSERT INTO sender_counts AS counted (sender, messages)
      SELECT sender, -n FROM unnest($1::text[], $2::bigint[]) AS d (sender, n) ORDER BY sender
      ON CONFLICT (sender) DO UPDATE SET messages = counted.messages + excluded.messages
      RETURNING sender, messages
    )
    SELECT sender FROM changed WHERE messages = 0`,
  dropSenders: 'DELETE FROM sender_counts WHERE sender = ANY($1::text[]) AND messages = 0',
  hours: `
    INSERT INTO hour_counts AS counted (hour, messages)
    SELECT hour, -n FROM unnest($1::bigint[], $2::bigint[]) AS d (hour, n) ORDER BY hour
    ON CONFLICT (hour) DO UPDATE SET messages = counted.messages + excluded.messages`,
  dropHours: 'DELETE FROM hour_counts WHERE hour = ANY($1::bigint[]) AND messages = 0',
  senderDays: `
    INSERT INTO sender_day_counts AS counted (sender, day, messages)
    SELECT sender, day, -n FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS d (sender, day, n)
    ORDER BY sender, day
    ON CONFLICT (sender, day) DO UPDATE SET messages = counted.messages + excluded.messages`,
  dropSenderDays: `
    DELETE FROM sender_day_counts AS counted
    USING unnest($1::text[], $2::bigint[]) AS d (sender, day)
    WHERE counted.sender = d.sender AND counted.day = d.day AND counted.messages = 0`,
  totals: `UPDATE message_totals SET messages = messages - $1, senders = senders - $2 WHERE id = 1`,
};

/** The batches that erase `target` (ids are matched as stored: escaped). */
export function erasure(target: EraseTarget): DeleteBatch {
  return {
    target:
      'from' in target
        ? { kind: 'sender', from: target.from }
        : { kind: 'id', messageId: escapeText(target.messageId) },
    limit: ERASE_BATCH,
    tombstone: true,
  };
}

/**
 * Runs `batch` over and over, each time in a transaction on a pooled connection, until a run
 * deletes fewer than its limit; resolves with how many messages were deleted in all.
 */
export async function deleteAll(pool: pg.Pool, batch: DeleteBatch): Promise<number> {
  let deleted = 0;
  for (;;) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw classify(error);
    }
    let count: number;
    try {
      count = await deleteBatch(client, batch);
    } catch (error) {
      throw classify(error);
    } finally {
      client.release();
    }
    deleted += count;
    if (count < batch.limit) return deleted;
  }
}

/** Runs one delete batch on `client` (which it leaves outside any transaction). */
export async function deleteBatch(client: pg.PoolClient, batch: DeleteBatch): Promise<number> {
  const target = batch.target;
  if (target.kind === 'statuses-received-before') throw new TypeError('a batch of statuses');
  const key =
    target.kind === 'id'
      ? target.messageId
      : target.kind === 'sender'
        ? target.from
        : target.before;
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ message_id: string; sender: string; ts_us: string }>(
      `DELETE FROM messages WHERE message_id IN (${CHOOSE[target.kind]})
       RETURNING message_id, sender, ts_us`,
      [key, batch.limit],
    );
    if (rows.length > 0) {
      await subtract(client, rows, batch.tombstone);
      // kept search totals of every replica are counted again, not topped up
      await client.query(BUMP_CHANGE_EPOCH_SQL);
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function tally<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

async function subtract(
  client: pg.PoolClient,
  rows: { message_id: string; sender: string; ts_us: string }[],
  tombstone: boolean,
): Promise<void> {
  const senders = new Map<string, number>();
  const hours = new Map<string, number>();
  const senderDays = new Map<string, number>();
  for (const row of rows) {
    const instant = BigInt(row.ts_us);
    tally(senders, row.sender);
    tally(hours, String(hourOf(instant)));
    tally(senderDays, `${dayOf(instant)} ${row.sender}`);
  }
  const gone = await client.query<{ sender: string }>(SUBTRACT.senders, [
    [...senders.keys()],
    [...senders.values()],
  ]);
  const goneSenders = gone.rows.map((row) => row.sender);
  if (goneSenders.length > 0) await client.query(SUBTRACT.dropSenders, [goneSenders]);
  await client.query(SUBTRACT.hours, [[...hours.keys()], [...hours.values()]]);
  await client.query(SUBTRACT.dropHours, [[...hours.keys()]]);
  const days = [...senderDays.keys()].map((key) => {
    const space = key.indexOf(' ');
    return { sender: key.slice(space + 1), day: key.slice(0, space) };
  });
  const daySenders = days.map((d) => d.sender);
  const dayNumbers = days.map((d) => d.day);
  await client.query(SUBTRACT.senderDays, [daySenders, dayNumbers, [...senderDays.values()]]);
  await client.query(SUBTRACT.dropSenderDays, [daySenders, dayNumbers]);
  await client.query(SUBTRACT.totals, [rows.length, goneSenders.length]);
  if (tombstone) {
    await client.query(
      `INSERT INTO erased_messages (message_id)
       SELECT id FROM unnest($1::text[]) AS id ORDER BY id ON CONFLICT DO NOTHING`,
      [rows.map((row) => row.message_id)],
    );
  }
}
