import { fold } from '../../fold.js';
import { instantOf } from '../../instant.js';
import type { Message } from '../../message.js';
import type { Delivery, DeliveryOutcome, InsertOutcome, MessageDetails } from '../store.js';
import { escapeText } from './escape.js';
import { DELIVERY_SQL, INSERT_SQL } from './sql.js';

/** The writes of the PostgreSQL store: message batches and WhatsApp deliveries. */

export interface Insert {
  /** message_id, escaped */
  id: string;
  message: Message;
  details: MessageDetails;
  instant: bigint;
}

type Query = <R extends object>(config: {
  name?: string;
  text: string;
  values: unknown[];
}) => Promise<{ rows: R[] }>;

/** A string column as stored: null kept, U+0000 escaped (see escape.ts). */
export const stored = (value: string | null): string | null =>
  value === null ? null : escapeText(value);

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The 13 column arrays of MESSAGE_CTES, for inserts already deduplicated and sorted. */
function messageColumns(rows: Insert[]): (string | null)[][] {
  const columns: (string | null)[][] = Array.from({ length: 13 }, () => []);
  for (const { id, message, details, instant } of rows) {
    const text = message.text ?? null;
    const values = [
      id,
      message.from,
      message.to,
      message.ts,
      String(instant),
      stored(text),
      text === null ? null : escapeText(fold(text)),
      details.source,
      stored(details.type),
      stored(details.contact_name),
      stored(details.reply_to),
      details.received_at,
      stored(details.payload),
    ];
    values.forEach((value, i) => {
      columns[i]?.push(value);
    });
  }
  return columns;
}

/**
 * The first occurrence of each id, in one global order of keys: two statements inserting the
 * same ids then never each wait for the other (a deadlock) on the unique index.
 */
function firstOfEach(batch: Insert[]): Map<string, Insert> {
  const first = new Map<string, Insert>();
  for (const insert of batch) if (!first.has(insert.id)) first.set(insert.id, insert);
  return first;
}

const sorted = (first: Map<string, Insert>): Insert[] =>
  [...first.values()].sort((a, b) => byKey(a.id, b.id));

/** One INSERT for the whole batch; an outcome per insert, in order. */
export async function writeMessages(query: Query, batch: Insert[]): Promise<InsertOutcome[]> {
  // later occurrences of an id in the batch are duplicates of the first whatever the database says
  const first = firstOfEach(batch);
  const result = await query<{ message_id: string }>({
    name: 'insert-messages',
    text: INSERT_SQL,
    values: messageColumns(sorted(first)),
  });
  const created = new Set(result.rows.map((row) => row.message_id));
  return batch.map((insert) =>
    first.get(insert.id) === insert && created.has(insert.id) ? 'created' : 'duplicate',
  );
}

/** A delivery's messages and statuses in one statement: all of it commits, or none. */
export async function writeDelivery(query: Query, delivery: Delivery): Promise<DeliveryOutcome> {
  const first = firstOfEach(
    delivery.messages.map(({ message, details }) => ({
      id: escapeText(message.message_id),
      message,
      details,
      instant: instantOf(message.ts),
    })),
  );
  const statuses = new Map<string, Delivery['statuses'][number] & { id: string }>();
  for (const status of delivery.statuses) {
    const id = escapeText(status.message_id);
    const key = JSON.stringify([id, status.status]);
    if (!statuses.has(key)) statuses.set(key, { ...status, id });
  }
  const statusRows = [...statuses.values()].sort(
    (a, b) => byKey(a.id, b.id) || byKey(a.status, b.status),
  );
  const statusColumns: (string | null)[][] = Array.from({ length: 8 }, () => []);
  const failures: (string | null)[][] = [[], [], []];
  for (const status of statusRows) {
    const values = [
      status.id,
      escapeText(status.status),
      status.ts,
      String(instantOf(status.ts)),
      escapeText(status.recipient),
      JSON.stringify(status.errors),
      stored(status.category),
      status.received_at,
    ];
    values.forEach((value, i) => {
      statusColumns[i]?.push(value);
    });
    if (status.status !== 'failed') continue;
    const codes = new Set<number>();
    for (const { code, title } of status.errors) {
      if (code === null || codes.has(code)) continue;
      codes.add(code);
      failures[0]?.push(status.id);
      failures[1]?.push(String(code));
      failures[2]?.push(stored(title));
    }
  }
  const { rows } = await query<{ messages: number; statuses: number }>({
    name: 'insert-delivery',
    text: DELIVERY_SQL,
    values: [...messageColumns(sorted(first)), ...statusColumns, ...failures],
  });
  const created = { messages: rows[0]?.messages ?? 0, statuses: rows[0]?.statuses ?? 0 };
  return {
    messages: {
      created: created.messages,
      duplicate: delivery.messages.length - created.messages,
    },
    statuses: {
      created: created.statuses,
      duplicate: delivery.statuses.length - created.statuses,
    },
  };
}
