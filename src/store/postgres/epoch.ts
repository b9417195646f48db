/**
 * The change epoch (migration 006): every transaction that deletes messages runs this statement
 * inside it, so that totals kept by every replica (../count-cache.ts) are counted again rather
 * than topped up.
 */
export const BUMP_CHANGE_EPOCH_SQL = 'UPDATE change_epoch SET epoch = epoch + 1 WHERE id = 1';
