import type Database from 'better-sqlite3';
import { instantOf } from '../../instant.js';
import type { NewStatus } from '../store.js';

/**
 * Writes delivery statuses on the writer's connection, inside the writer's transaction, with the
 * counts they change (status_counts, failure_counts; see migration 004).
 */

/** message_id, status, ts, ts_us, recipient, errors (JSON), category, received_at */
export type StatusRow = [string, string, string, bigint, string, string, string | null, string];

export function statusRowOf(status: NewStatus): StatusRow {
  return [
    status.message_id,
    status.status,
    status.ts,
    instantOf(status.ts),
    status.recipient,
    JSON.stringify(status.errors),
    status.category,
    status.received_at,
  ];
}

export class StatusWriter {
  private readonly insertRow: Database.Statement;
  private readonly addStatus: Database.Statement;
  private readonly addFailure: Database.Statement;
  /** statuses stored in the current transaction, per status word */
  private readonly statuses = new Map<string, number>();
  /** failed statuses stored in the current transaction, per error code, with a title */
  private readonly failures = new Map<number, { title: string | null; count: number }>();

  constructor(db: Database.Database) {
    this.insertRow = db.prepare(
      `INSERT INTO statuses (message_id, status, ts, ts_us, recipient, errors, category,
                             received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (message_id, status) DO NOTHING`,
    );
    this.addStatus = db.prepare(
      `INSERT INTO status_counts (status, statuses) VALUES (?, ?)
       ON CONFLICT (status) DO UPDATE SET statuses = statuses + excluded.statuses`,
    );
    this.addFailure = db.prepare(
      `INSERT INTO failure_counts (code, title, failures) VALUES (?, ?, ?)
       ON CONFLICT (code) DO UPDATE SET failures = failures + excluded.failures,
                                        title = coalesce(title, excluded.title)`,
    );
  }

  /** Stores one status unless stored already; true when it was new. */
  insert(row: StatusRow): boolean {
    if (this.insertRow.run(row).changes === 0) return false;
    const status = row[1];
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status === 'failed') {
      const codes = new Set<number>();
      for (const { code, title } of JSON.parse(row[5]) as NewStatus['errors']) {
        if (code === null || codes.has(code)) continue;
        codes.add(code);
        const failure = this.failures.get(code) ?? { title, count: 0 };
        failure.count++;
        failure.title ??= title;
        this.failures.set(code, failure);
      }
    }
    return true;
  }

  /** Adds what the transaction stored to the kept counts; call once, before it commits. */
  flush(): void {
    try {
      for (const [status, count] of this.statuses) this.addStatus.run(status, count);
      for (const [code, { title, count }] of this.failures) this.addFailure.run(code, title, count);
    } finally {
      this.statuses.clear();
      this.failures.clear();
    }
  }

  /** Forgets what a transaction that rolled back had counted. */
  reset(): void {
    this.statuses.clear();
    this.failures.clear();
  }
}
