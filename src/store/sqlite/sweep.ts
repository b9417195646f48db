import type Database from 'better-sqlite3';
import { failureCodes } from '../delete-batch.js';

/**
 * Deleting delivery statuses received before a cut-off (retention), on the writer's connection:
 * a batch is one transaction that removes the rows and their share of status_counts and
 * failure_counts, dropping the counts that reach zero.
 */
export class SqliteStatusDeleter {
  private readonly batch: Database.Transaction<(before: string, limit: number) => number>;

  constructor(private readonly db: Database.Database) {
    const select = db
      .prepare('SELECT message_id, status, errors FROM statuses WHERE received_at < ? LIMIT ?')
      .raw();
    const deleteRow = db.prepare('DELETE FROM statuses WHERE message_id = ? AND status = ?');
    const subStatus = db.prepare(
      'UPDATE status_counts SET statuses = statuses - ? WHERE status = ?',
    );
    const dropStatus = db.prepare('DELETE FROM status_counts WHERE status = ? AND statuses <= 0');
    const subFailure = db.prepare(
      'UPDATE failure_counts SET failures = failures - ? WHERE code = ?',
    );
    const dropFailure = db.prepare('DELETE FROM failure_counts WHERE code = ? AND failures <= 0');

    this.batch = db.transaction((before: string, limit: number): number => {
      const rows = select.all(before, limit) as [string, string, string][];
      const statuses = new Map<string, number>();
      const failures = new Map<number, number>();
      for (const [messageId, status, errors] of rows) {
        deleteRow.run(messageId, status);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        for (const code of failureCodes(status, errors)) {
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
      }
      for (const [status, count] of statuses) {
        subStatus.run(count, status);
        dropStatus.run(status);
      }
      for (const [code, count] of failures) {
        subFailure.run(count, code);
        dropFailure.run(code);
      }
      return rows.length;
    });
  }

  /** Deletes up to `limit` statuses received before `before`; returns how many went. */
  delete(before: string, limit: number): number {
    this.db.pragma('synchronous = NORMAL'); // as for messages: see SqliteDeleter.delete
    try {
      return this.batch.immediate(before, limit);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }
}
