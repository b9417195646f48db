import type Database from 'better-sqlite3';

/**
 * The change epoch (migration 006): every transaction that deletes messages calls
 * bumpChangeEpoch() inside it, so that totals kept by readers (../count-cache.ts) are counted
 * again rather than topped up.
 */
export function bumpChangeEpoch(db: Database.Database): void {
  if (!db.inTransaction) throw new Error('the change epoch moves inside the deleting transaction');
  db.prepare('UPDATE change_epoch SET epoch = epoch + 1 WHERE id = 1').run();
}
