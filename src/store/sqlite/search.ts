import type Database from 'better-sqlite3';
import type { StoredMessage } from '../store.js';

/**
 * `q` on SQLite: a case-insensitive substring of text (both sides folded, see ../../fold.ts).
 *
 * The trigram index (messages_search, FTS5) finds the messages holding a `q` of three or more
 * code points without scanning the table: a quoted FTS5 phrase of trigrams matches exactly the
 * texts that contain it, and `%`, `_` and `\` mean nothing special to it. Messages written since
 * the indexer last ran (seq > indexed_through, usually none or a few) are checked directly.
 * A `q` of one or two code points has no trigram and is checked row by row.
 *
 * Pages: either every match is looked up and the matches sorted (cost: the number of matches),
 * or the messages the other filters keep are walked in list order until the page is full (cost:
 * about (offset + limit) × kept / matches rows). The cheaper one is taken: rare words sort,
 * common ones walk and stop early.
 */

const COLUMNS = 'message_id, sender AS "from", recipient AS "to", ts, text';

/** Message seqs whose folded text contains the phrase (bound twice: phrase, then plain). */
const MATCHES = `SELECT rowid FROM messages_search WHERE messages_search MATCH ?
  UNION ALL
  SELECT seq FROM messages
  WHERE seq > (SELECT indexed_through FROM search_index) AND instr(text_folded, ?) > 0`;

/**
 * Most messages a search counts one by one along the other filters' index range rather than
 * through the trigram index. Measured at 1M messages: a sender's 1,300 messages in 2 ms, 60,000
 * in 360 ms, against about 100 ms through the trigram index for a word in 17% of all messages.
 */
export const RANGE_ROWS = 10_000;

function indexable(q: string): boolean {
  let codePoints = 0;
  for (const _ of q) if (++codePoints >= 3) return true;
  return false;
}

/** `q` as one FTS5 phrase: in double quotes, a double quote written twice. */
function phrase(q: string): string {
  return `"${q.replaceAll('"', '""')}"`;
}

function and(where: string[]): string {
  return where.length === 0 ? '' : ` AND ${where.join(' AND ')}`;
}

export class SqliteSearch {
  constructor(
    private readonly statement: (sql: string) => Database.Statement,
    private readonly rangeRows = RANGE_ROWS,
  ) {}

  /**
   * Messages matching `where` (with `params`) whose folded text contains `q` (folded); `kept` is
   * how many messages `where` keeps. Up to RANGE_ROWS of them are checked one by one along an
   * index range (about a microsecond each); more, and the trigram index finds the matches, which
   * are then looked up in seq order (about a microsecond per match, whatever `where` keeps).
   */
  count(q: string, kept: number, where: string[], params: unknown[]): number {
    const one = (sql: string, ...values: unknown[]) =>
      this.statement(sql)
        .pluck()
        .get(...values) as number;
    if (!indexable(q) || (where.length > 0 && kept <= this.rangeRows))
      return one(
        `SELECT count(*) FROM messages WHERE instr(text_folded, ?) > 0${and(where)}`,
        q,
        ...params,
      );
    if (where.length === 0)
      return one(
        `SELECT (SELECT count(*) FROM messages_search WHERE messages_search MATCH ?)
              + (SELECT count(*) FROM messages
                 WHERE seq > (SELECT indexed_through FROM search_index)
                   AND instr(text_folded, ?) > 0)`,
        phrase(q),
        q,
      );
    return one(
      `SELECT count(*) FROM messages WHERE seq IN (${MATCHES})${and(where)}`,
      phrase(q),
      q,
      ...params,
    );
  }

  /** Like count(), only over the messages with seq > `seq` (a primary key range). */
  countAfter(seq: number, q: string, where: string[], params: unknown[]): number {
    return this.statement(
      `SELECT count(*) FROM messages NOT INDEXED
       WHERE seq > ? AND instr(text_folded, ?) > 0${and(where)}`,
    )
      .pluck()
      .get(seq, q, ...params) as number;
  }

  /**
   * One page of those messages, in list order. `total` is what count() returned, `kept` how many
   * messages the other filters keep.
   */
  page(
    q: string,
    counts: { total: number; kept: number },
    where: string[],
    params: unknown[],
    { limit, offset, desc }: { limit: number; offset: number; desc: boolean },
  ): StoredMessage[] {
    const direction = desc ? ' DESC' : '';
    const all = (sql: string, ...values: unknown[]) =>
      this.statement(sql).all(...values) as StoredMessage[];
    if (counts.total === 0) return [];
    const walk = ((offset + limit) * counts.kept) / counts.total;
    // With other filters, the trigram index still yields every match of q before they apply:
    // a short range is walked instead, whatever the totals say.
    const shortRange = where.length > 0 && counts.kept <= this.rangeRows;
    if (indexable(q) && counts.total <= walk && !shortRange) {
      // `+ts_us`: sort the few matches rather than walk an index in list order
      return all(
        `SELECT ${COLUMNS} FROM messages WHERE seq IN (${MATCHES})${and(where)}
         ORDER BY +ts_us${direction}, message_id${direction} LIMIT ? OFFSET ?`,
        phrase(q),
        q,
        ...params,
        limit,
        offset,
      );
    }
    return all(
      `SELECT ${COLUMNS} FROM messages WHERE instr(text_folded, ?) > 0${and(where)}
       ORDER BY ts_us${direction}, message_id${direction} LIMIT ? OFFSET ?`,
      q,
      ...params,
      limit,
      offset,
    );
  }
}
