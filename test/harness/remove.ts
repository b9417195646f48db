import Database from 'better-sqlite3';
import { BUMP_CHANGE_EPOCH_SQL } from '../../src/store/postgres/epoch.js';
import { escapeText } from '../../src/store/postgres/escape.js';
import { bumpChangeEpoch } from '../../src/store/sqlite/epoch.js';
import { withClient } from './database.js';

/**
 * Deletes messages the way a deleting transaction must: rows, their search index entries and the
 * change epoch in one transaction. The kept per-sender and per-hour totals are left as they are,
 * so only search totals (which never read them) may be judged afterwards.
 */

export function removeFromSqlite(path: string, ids: string[]): void {
  const db = new Database(path, { timeout: 5000 });
  try {
    const find = db.prepare('SELECT seq, text_folded FROM messages WHERE message_id = ?');
    const unindex = db.prepare(
      `DELETE FROM messages_search
       WHERE rowid = ? AND rowid <= (SELECT indexed_through FROM search_index)`,
    );
    const remove = db.prepare('DELETE FROM messages WHERE seq = ?');
    db.transaction(() => {
      for (const id of ids) {
        const row = find.get(id) as { seq: number; text_folded: string | null } | undefined;
        if (row === undefined) continue;
        if (row.text_folded !== null) unindex.run(row.seq);
        remove.run(row.seq);
      }
      bumpChangeEpoch(db);
    }).immediate();
  } finally {
    db.close();
  }
}

export async function removeFromPostgres(url: string, ids: string[]): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('BEGIN');
    await client.query('DELETE FROM messages WHERE message_id = ANY($1::text[])', [
      ids.map(escapeText),
    ]);
    await client.query(BUMP_CHANGE_EPOCH_SQL);
    await client.query('COMMIT');
  });
}
