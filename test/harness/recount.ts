import assert from 'node:assert/strict';
import Database from 'better-sqlite3';

/**
 * Checks a SQLite file against a recount of its rows: integrity_check, and every kept total
 * (message_totals, sender_counts, hour_counts, sender_day_counts, status_counts) equal to a
 * GROUP BY over the rows, with no zero or negative count left behind.
 */
export function assertSqliteRecount(path: string, label: string): void {
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `${label}: integrity`);
    const all = (sql: string) => db.prepare(sql).raw().all();
    const HOUR = 'ts_us / 3600000000 - (ts_us < 0 AND ts_us % 3600000000 != 0)';
    const DAY = 'ts_us / 86400000000 - (ts_us < 0 AND ts_us % 86400000000 != 0)';
    const pairs: [string, string][] = [
      [
        'SELECT messages, senders FROM message_totals',
        'SELECT count(*), count(DISTINCT sender) FROM messages',
      ],
      [
        'SELECT sender, messages FROM sender_counts ORDER BY 1',
        'SELECT sender, count(*) FROM messages GROUP BY 1 ORDER BY 1',
      ],
      [
        'SELECT hour, messages FROM hour_counts ORDER BY 1',
        `SELECT ${HOUR}, count(*) FROM messages GROUP BY 1 ORDER BY 1`,
      ],
      [
        'SELECT sender, day, messages FROM sender_day_counts ORDER BY 1, 2',
        `SELECT sender, ${DAY}, count(*) FROM messages GROUP BY 1, 2 ORDER BY 1, 2`,
      ],
      [
        'SELECT status, statuses FROM status_counts WHERE statuses != 0 ORDER BY 1',
        'SELECT status, count(*) FROM statuses GROUP BY 1 ORDER BY 1',
      ],
    ];
    for (const [kept, counted] of pairs) {
      assert.deepEqual(all(kept), all(counted), `${label}: ${kept}`);
    }
  } finally {
    db.close();
  }
}

/** assertSqliteRecount for a PostgreSQL database (at `url`, through `client`). */
export async function assertPostgresRecount(
  query: (sql: string) => Promise<unknown[][]>,
  label: string,
): Promise<void> {
  const HOUR = 'floor(ts_us::numeric / 3600000000)::bigint';
  const DAY = 'floor(ts_us::numeric / 86400000000)::bigint';
  const pairs: [string, string][] = [
    [
      'SELECT messages::bigint, senders::bigint FROM message_totals',
      'SELECT count(*)::bigint, count(DISTINCT sender)::bigint FROM messages',
    ],
    [
      'SELECT sender, messages::bigint FROM sender_counts ORDER BY 1',
      'SELECT sender, count(*)::bigint FROM messages GROUP BY 1 ORDER BY 1',
    ],
    [
      'SELECT hour, messages::bigint FROM hour_counts ORDER BY 1',
      `SELECT ${HOUR}, count(*)::bigint FROM messages GROUP BY 1 ORDER BY 1`,
    ],
    [
      'SELECT sender, day, messages::bigint FROM sender_day_counts ORDER BY 1, 2',
      `SELECT sender, ${DAY}, count(*)::bigint FROM messages GROUP BY 1, 2 ORDER BY 1, 2`,
    ],
  ];
  for (const [kept, counted] of pairs) {
    assert.deepEqual(await query(kept), await query(counted), `${label}: ${kept}`);
  }
}
