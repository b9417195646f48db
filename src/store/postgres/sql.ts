import { TOP_SENDERS } from '../store.js';

/** The SQL text of the PostgreSQL store. */

/**
 * The channel on which every new message's id is announced (NOTIFY, delivered at commit), so
 * that every process sharing the database can tell its readers (see notifications.ts). Named
 * after the schema, since notifications span the whole database.
 */
export const NOTIFY_CHANNEL = `'messages_' || left(md5(current_schema()), 16)`;

/**
 * One statement per batch: the rows, and the totals they change (see the second migration),
 * and a notification per new row (the statements using them count `notified`, so that it runs).
 * The sub-statements run in the order written and lock rows in sorted order (ids, senders,
 * hours, senders' days, then the one totals row), so two replicas' batches wait for each other
 * rather than deadlock. A batch of duplicates only reads.
 */
export const MESSAGE_CTES = `
  inserted AS (
    INSERT INTO messages (message_id, sender, recipient, ts, ts_us, text, text_folded,
                          source, type, contact_name, reply_to, received_at, payload)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                         $11::text[], $12::text[], $13::text[])
                 AS row (id, sender, recipient, ts, ts_us, text, folded, source, type,
                         contact_name, reply_to, received_at, payload)
    -- an erased id stores nothing again: its tombstone stays
    WHERE NOT EXISTS (SELECT 1 FROM erased_messages AS erased WHERE erased.message_id = row.id)
    ON CONFLICT (message_id) DO NOTHING
    RETURNING message_id, sender, ts_us
  ), senders AS (
    INSERT INTO sender_counts AS counted (sender, messages)
    SELECT sender, count(*) FROM inserted GROUP BY sender ORDER BY sender
    ON CONFLICT (sender) DO UPDATE SET messages = counted.messages + excluded.messages
    RETURNING xmax = 0 AS added
  ), hours AS (
    INSERT INTO hour_counts AS counted (hour, messages)
    SELECT floor(ts_us::numeric / 3600000000)::bigint AS hour, count(*)
    FROM inserted GROUP BY 1 ORDER BY 1
    ON CONFLICT (hour) DO UPDATE SET messages = counted.messages + excluded.messages
  ), sender_days AS (
    INSERT INTO sender_day_counts AS counted (sender, day, messages)
    SELECT sender, floor(ts_us::numeric / 86400000000)::bigint AS day, count(*)
    FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (sender, day) DO UPDATE SET messages = counted.messages + excluded.messages
  ), totals AS (
    UPDATE message_totals
    SET messages = messages + (SELECT count(*) FROM inserted),
        senders = senders + (SELECT count(*) FROM senders WHERE added)
    WHERE id = 1 AND EXISTS (SELECT 1 FROM inserted)
  ), notified AS (
    SELECT pg_notify(${NOTIFY_CHANNEL}, message_id) FROM inserted
  )`;

/** The count in the last line makes sure `notified` runs (an unreferenced CTE would not). */
export const INSERT_SQL = `
  WITH ${MESSAGE_CTES}
  SELECT message_id FROM inserted WHERE (SELECT count(*) FROM notified) >= 0`;

/**
 * One statement per WhatsApp delivery, so that it commits whole or not at all: its messages
 * with their totals (as INSERT_SQL, parameters 1-13), then its statuses (14-21) with the counts
 * they change (see migration 004): the error codes of failed statuses (22-24: message_id, code,
 * title; each code once per status) count for the statuses actually stored. Every sub-statement takes its rows in sorted order.
 */
export const DELIVERY_SQL = `
  WITH ${MESSAGE_CTES},
  status_rows AS (
    INSERT INTO statuses (message_id, status, ts, ts_us, recipient, errors, category, received_at)
    SELECT * FROM unnest($14::text[], $15::text[], $16::text[], $17::bigint[], $18::text[],
                         $19::text[], $20::text[], $21::text[])
    ON CONFLICT (message_id, status) DO NOTHING
    RETURNING message_id, status
  ), status_totals AS (
    INSERT INTO status_counts AS counted (status, statuses)
    SELECT status, count(*) FROM status_rows GROUP BY status ORDER BY status
    ON CONFLICT (status) DO UPDATE SET statuses = counted.statuses + excluded.statuses
  ), failures AS (
    SELECT failure.code, failure.title
    FROM unnest($22::text[], $23::bigint[], $24::text[]) AS failure (message_id, code, title)
    JOIN status_rows ON status_rows.message_id = failure.message_id
                    AND status_rows.status = 'failed'
  ), failure_totals AS (
    INSERT INTO failure_counts AS counted (code, title, failures)
    SELECT code, (array_agg(title) FILTER (WHERE title IS NOT NULL))[1], count(*)
    FROM failures GROUP BY code ORDER BY code
    ON CONFLICT (code) DO UPDATE SET failures = counted.failures + excluded.failures,
                                     title = coalesce(counted.title, excluded.title)
  )
  SELECT (SELECT count(*) FROM inserted)::int AS messages,
         (SELECT count(*) FROM status_rows)::int AS statuses,
         (SELECT count(*) FROM notified)::int AS notified`;

/** One statement: one snapshot, so the figures agree with each other. */
export const STATS_SQL = `
  SELECT totals.messages AS total, totals.senders,
    (SELECT coalesce(json_agg(json_build_object('from', sender, 'count', messages)
                              ORDER BY messages DESC, sender ASC), '[]'::json)
       FROM (SELECT sender, messages FROM sender_counts
             ORDER BY messages DESC, sender ASC LIMIT ${TOP_SENDERS}) AS top) AS per_sender,
    (SELECT ts FROM messages ORDER BY ts_us ASC, message_id ASC LIMIT 1) AS first_ts,
    (SELECT ts FROM messages ORDER BY ts_us DESC, message_id DESC LIMIT 1) AS last_ts
  FROM message_totals AS totals WHERE id = 1`;

export const MESSAGE_COLUMNS = 'message_id, sender AS "from", recipient AS "to", ts, text';

/** The messages of some ids (escaped), in list order. */
export const MESSAGES_BY_ID_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE message_id = ANY($1::text[]) ORDER BY ts_us, message_id`;

/** Everything GET /messages/{message_id} shows. */
export const RECORD_SQL = `
  SELECT ${MESSAGE_COLUMNS}, source, type, contact_name, reply_to, received_at, payload
  FROM messages WHERE message_id = $1`;

/** `text` as a LIKE pattern matching itself only: %, _ and the escape character \ escaped. */
export function literal(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function whereClause(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}
