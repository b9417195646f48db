/**
 * One batch of a delete (erasure or retention), as both stores run it: one transaction that
 * removes at most `limit` messages and their share of every kept total.
 */

/** Which messages a delete batch takes. */
export type DeleteTarget =
  | { kind: 'id'; messageId: string }
  | { kind: 'sender'; from: string }
  | { kind: 'received-before'; before: string };

export interface DeleteBatch {
  target: DeleteTarget;
  /** most messages deleted by this batch */
  limit: number;
  /** leave a tombstone of each deleted id, so that a redelivery stores nothing (erasure) */
  tombstone: boolean;
}
