import pg from 'pg';
import { fold } from '../fold.js';
import { dayOf, hourOf, MICROS_PER_DAY, MICROS_PER_HOUR, parseInstant } from '../instant.js';
import type { Message } from '../message.js';
import { readMigrations } from './migrations.js';
import { classify, describeError, isStale, isUnavailable } from './postgres/errors.js';
import { escapeText, unescapeText } from './postgres/escape.js';
import { migrate } from './postgres/migrate.js';
import {
  type InsertOutcome,
  type ListFilter,
  type MessagePage,
  type Page,
  type Stats,
  type Store,
  type StoredMessage,
  type StoreHealth,
  StoreUnavailableError,
} from './store.js';

/** Where the store reports what happens outside any request: migrations, lost connections. */
export interface StoreLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

const SILENT: StoreLogger = { info() {}, warn() {}, error() {} };

export interface PostgresStoreOptions {
  /** postgres://… or postgresql://… */
  url: string;
  /** most connections this process opens */
  poolSize: number;
  /** longest wait for a connection, a lock or a statement */
  timeoutMs: number;
  logger?: StoreLogger;
}

/** Most rows in one INSERT; a longer queue is written in several statements. */
const MAX_BATCH_ROWS = 1000;

/** Migration retries while the database is unreachable: first wait, and the cap. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * A schema change may rebuild an index on a large table: migrations get at least a minute per
 * statement, however short the request timeout is.
 */
const MIGRATION_TIMEOUT_MS = 60_000;

/** The client-side timeout fires this much after the server-side one, as a backstop only. */
const CLIENT_TIMEOUT_MARGIN_MS = 1000;

/**
 * One statement per batch: the rows, and the totals they change (see the second migration).
 * The sub-statements run in the order written and lock rows in sorted order (ids, senders,
 * hours, senders' days, then the one totals row), so two replicas' batches wait for each other rather than
 * deadlock. A batch of duplicates only reads.
 */
const INSERT_SQL = `
  WITH inserted AS (
    INSERT INTO messages (message_id, sender, recipient, ts, ts_us, text, text_folded)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                         $6::text[], $7::text[])
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
  )
  SELECT message_id FROM inserted`;

const STATS_SQL = `
  SELECT totals.messages AS total, totals.senders,
    (SELECT coalesce(json_agg(json_build_object('from', sender, 'count', messages)
                              ORDER BY messages DESC, sender ASC), '[]'::json)
       FROM (SELECT sender, messages FROM sender_counts
             ORDER BY messages DESC, sender ASC LIMIT 10) AS top) AS per_sender,
    (SELECT ts FROM messages ORDER BY ts_us ASC, message_id ASC LIMIT 1) AS first_ts,
    (SELECT ts FROM messages ORDER BY ts_us DESC, message_id DESC LIMIT 1) AS last_ts
  FROM message_totals AS totals WHERE id = 1`;

/** `text` as a LIKE pattern matching itself only: %, _ and the escape character \ escaped. */
function literal(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

interface PendingInsert {
  /** escaped */
  id: string;
  message: Message;
  instant: bigint;
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: unknown) => void;
}

interface MessageRow {
  message_id: string;
  from: string;
  to: string;
  ts: string;
  text: string | null;
}

/**
 * The shared store for running several replicas of the service against one PostgreSQL.
 *
 * Every process is stateless: the primary key on message_id decides what is new
 * (`INSERT … ON CONFLICT DO NOTHING`), so deliveries of one id racing on different processes
 * store one row and exactly one of them is told 'created'. Inserts are grouped: those queued
 * during one event-loop turn, or while earlier statements are in flight, go into one multi-row
 * statement (at most MAX_BATCH_ROWS), with up to poolSize − 1 statements in flight so that one
 * connection stays free for reads and health checks. Each statement commits on its own
 * (autocommit: with synchronous_commit on, PostgreSQL's default, the row is in the WAL on disk)
 * before any of its callers is answered.
 *
 * The process starts even when the database is unreachable: migrations are then retried in the
 * background with a capped backoff, requests get StoreUnavailableError and check() says why,
 * until the schema is in place.
 */
export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  private readonly logger: StoreLogger;
  private readonly migrations = readMigrations('postgres');
  private readonly latestVersion = this.migrations.length;
  private readonly maxInFlight: number;
  private readonly connection: pg.ClientConfig;

  /** whether the schema is known to be applied; until then requests are refused at once */
  private migrated = false;
  /** why the last migration attempt failed */
  private migrationFailure = 'not attempted yet';
  private readonly migrating: Promise<void>;
  /** ends the current wait between migration attempts early */
  private wake: (() => void) | null = null;

  private pending: PendingInsert[] = [];
  private flushScheduled = false;
  private readonly writing = new Set<Promise<void>>();
  private closed = false;
  private closing: Promise<void> | null = null;

  /**
   * Settles after the first migration attempt, or after the timeout if that takes longer:
   * resolved when it succeeded or the database was unavailable (attempts then go on in the
   * background), rejected when it failed for a reason retrying cannot fix.
   */
  readonly started: Promise<void>;

  constructor(options: PostgresStoreOptions) {
    this.logger = options.logger ?? SILENT;
    this.maxInFlight = Math.max(1, options.poolSize - 1);
    this.connection = {
      connectionString: options.url,
      // waiting for a new connection, or (in the pool) for a free one
      connectionTimeoutMillis: options.timeoutMs,
      keepAlive: true,
      application_name: 'webhook-receiver',
    };
    this.pool = new pg.Pool({
      ...this.connection,
      max: options.poolSize,
      ...timeouts(options.timeoutMs),
    });
    // An idle connection that breaks (server restart, pg_terminate_backend) is reported here;
    // the pool has already dropped it. Without a listener the process would crash.
    this.pool.on('error', (error) =>
      this.logger.warn({ error: describeError(error) }, 'database connection lost'),
    );
    const started = new Outcome();
    this.started = started.promise;
    // openStore awaits it; a caller that does not must not see an unhandled rejection
    this.started.catch(() => undefined);
    this.migrating = this.keepMigrating(started, options.timeoutMs);
  }

  // ---- schema ----

  private async attemptMigration(): Promise<void> {
    const applied = await migrate(
      { ...this.connection, ...timeouts(MIGRATION_TIMEOUT_MS) },
      this.migrations,
    );
    this.migrated = true;
    this.logger.info(
      { database: 'postgres', applied, schema_version: this.latestVersion },
      applied.length > 0 ? 'database schema migrated' : 'database schema up to date',
    );
  }

  /**
   * Migrates until the schema is applied or the store closes, waiting between failed attempts
   * (doubling, capped). `started` settles on the first attempt's outcome, or once the request
   * timeout has passed, whichever comes first: a replica waiting for another's long migration
   * still starts serving (live, and 503 until ready) instead of hanging at start.
   */
  private async keepMigrating(started: Outcome, timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => started.settle(), timeoutMs);
    timer.unref();
    let delay = FIRST_RETRY_MS;
    for (let attempt = 1; !this.closed && !this.migrated; attempt++) {
      try {
        await this.attemptMigration();
        break;
      } catch (error) {
        this.migrationFailure = describeError(error);
        // a first failure that retrying cannot fix (a migration the server rejects) stops the start
        if (!started.settled && !isUnavailable(error)) {
          clearTimeout(timer);
          started.settle(error);
          return;
        }
        const fields = { error: this.migrationFailure, attempt, retry_in_ms: delay };
        if (!isUnavailable(error)) this.logger.error(fields, 'database schema migration failed');
        else if (attempt === 1) {
          this.logger.warn(fields, 'database unavailable: serving 503 and retrying the migration');
        } else this.logger.warn(fields, 'database still unavailable');
        started.settle();
        await this.pause(delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
    clearTimeout(timer);
    started.settle();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // a store waiting to retry must not keep a finished process alive
      timer.unref();
      this.wake = done;
    });
  }

  /** Requests are refused quickly while the schema is not in place (or the store is closed). */
  private unusable(): StoreUnavailableError | null {
    if (this.closed) return new StoreUnavailableError('PostgreSQL: the store is closed');
    if (this.migrated) return null;
    return new StoreUnavailableError(
      `PostgreSQL: the schema is not applied yet (${this.migrationFailure})`,
    );
  }

  // ---- queries ----

  /**
   * Runs one statement on a pooled connection. A connection that broke while idle in the pool
   * (the server restarted, an administrator terminated it) fails on first use: that statement is
   * retried once on another connection, so such an event rarely costs a request an error. Every
   * statement here is safe to repeat; a repeated insert at worst reports 'duplicate' for a row the lost
   * attempt committed.
   */
  private async query<R extends pg.QueryResultRow>(
    config: pg.QueryConfig,
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(config);
    } catch (error) {
      if (!isStale(error) || this.closed) throw classify(error);
      try {
        return await this.pool.query<R>(config);
      } catch (again) {
        throw classify(again);
      }
    }
  }

  // ---- writes ----

  insert(message: Message): Promise<InsertOutcome> {
    const refused = this.unusable();
    if (refused !== null) return Promise.reject(refused);
    const instant = parseInstant(message.ts);
    if (instant === null) return Promise.reject(new TypeError('ts is not a valid instant'));
    return new Promise((resolve, reject) => {
      this.pending.push({ id: escapeText(message.message_id), message, instant, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  /** Starts statements for the queued inserts, as many as free slots allow. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    while (this.pending.length > 0 && this.writing.size < this.maxInFlight) {
      const batch = this.pending.splice(0, MAX_BATCH_ROWS);
      const written: Promise<void> = this.write(batch).finally(() => {
        this.writing.delete(written);
        this.scheduleFlush();
      });
      this.writing.add(written);
    }
  };

  /** One INSERT for the whole batch; settles every caller, never rejects. */
  private async write(batch: PendingInsert[]): Promise<void> {
    // The first occurrence of an id in the batch goes to the database; later ones in the same
    // batch are duplicates of it whatever the database says.
    const first = new Map<string, PendingInsert>();
    const repeats: PendingInsert[] = [];
    for (const insert of batch) {
      if (first.has(insert.id)) repeats.push(insert);
      else first.set(insert.id, insert);
    }
    // One global order of keys in every statement, so that two statements inserting the same
    // ids cannot each wait for the other (a deadlock) on the unique index.
    const rows = [...first.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const columns: (string | null)[][] = [[], [], [], [], [], [], []];
    for (const { id, message, instant } of rows) {
      const text = message.text ?? null;
      const values = [
        id,
        message.from,
        message.to,
        message.ts,
        String(instant),
        text === null ? null : escapeText(text),
        text === null ? null : escapeText(fold(text)),
      ];
      values.forEach((value, i) => {
        columns[i]?.push(value);
      });
    }
    let created: Set<string>;
    try {
      const result = await this.query<{ message_id: string }>({
        name: 'insert-messages',
        text: INSERT_SQL,
        values: columns,
      });
      created = new Set(result.rows.map((row) => row.message_id));
    } catch (error) {
      for (const insert of batch) insert.reject(error);
      return;
    }
    for (const insert of first.values()) {
      insert.resolve(created.has(insert.id) ? 'created' : 'duplicate');
    }
    for (const insert of repeats) insert.resolve('duplicate');
  }

  // ---- reads ----

  async list(filter: ListFilter, page: Page): Promise<MessagePage> {
    const refused = this.unusable();
    if (refused !== null) throw refused;
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    let since: bigint | undefined;
    if (filter.from !== undefined) where.push(`sender = ${param(filter.from)}`);
    if (filter.since !== undefined) {
      const instant = parseInstant(filter.since);
      if (instant === null) throw new TypeError('since is not a valid instant');
      since = instant;
      where.push(`ts_us >= ${param(String(since))}::bigint`);
    }
    // LIKE with every special character escaped, so that the trigram index can serve it:
    // %, _ and \ in q are ordinary characters
    if (filter.q !== undefined) {
      where.push(`text_folded LIKE ${param(`%${literal(escapeText(fold(filter.q)))}%`)}`);
    }
    const counting = this.count(filter, since, where, [...values]);
    if (page.after !== undefined) {
      where.push(
        `(ts_us, message_id) > (${param(String(page.after.instant))}::bigint, ` +
          `${param(escapeText(page.after.messageId))}::text COLLATE "C")`,
      );
    }
    const pageSql = `
      SELECT message_id, sender AS "from", recipient AS "to", ts, text FROM messages
      ${whereClause(where)}
      ORDER BY ts_us, message_id
      LIMIT ${param(page.limit + 1)}::integer OFFSET ${param(String(page.offset))}::bigint`;
    const [total, listed] = await Promise.all([
      counting,
      this.query<MessageRow>({ text: pageSql, values }),
    ]);
    const rows = listed.rows.map(
      (row): StoredMessage => ({
        message_id: unescapeText(row.message_id),
        from: row.from,
        to: row.to,
        ts: row.ts,
        text: row.text === null ? null : unescapeText(row.text),
      }),
    );
    const more = rows.length > page.limit;
    return { data: more ? rows.slice(0, page.limit) : rows, total, more };
  }

  /**
   * Messages matching the filter: from the kept totals where they answer it (no filter, only
   * `from`, only `since`), else counted through an index.
   */
  private async count(
    filter: ListFilter,
    since: bigint | undefined,
    where: string[],
    values: unknown[],
  ): Promise<number> {
    const one = async (text: string, params: unknown[] = []) => {
      const { rows } = await this.query<{ n: string | null }>({ text, values: params });
      return Number(rows[0]?.n ?? 0);
    };
    if (filter.q === undefined && filter.from === undefined && since === undefined)
      return one('SELECT messages AS n FROM message_totals WHERE id = 1');
    if (filter.q === undefined && since === undefined)
      return one('SELECT messages AS n FROM sender_counts WHERE sender = $1', [filter.from]);
    if (filter.q === undefined && filter.from === undefined && since !== undefined) {
      // whole hours after the one `since` falls in, plus the rest of that hour
      const hour = hourOf(since);
      return one(
        `SELECT (SELECT coalesce(sum(messages), 0) FROM hour_counts WHERE hour > $1::bigint)
              + (SELECT count(*) FROM messages WHERE ts_us >= $2::bigint AND ts_us < $3::bigint)
              AS n`,
        [String(hour), String(since), String((hour + 1n) * MICROS_PER_HOUR)],
      );
    }
    if (filter.q === undefined && filter.from !== undefined && since !== undefined) {
      // the sender's whole days after the one `since` falls in, plus the rest of that day
      const day = dayOf(since);
      return one(
        `SELECT (SELECT coalesce(sum(messages), 0) FROM sender_day_counts
                 WHERE sender = $1 AND day > $2::bigint)
              + (SELECT count(*) FROM messages
                 WHERE sender = $1 AND ts_us >= $3::bigint AND ts_us < $4::bigint) AS n`,
        [filter.from, String(day), String(since), String((day + 1n) * MICROS_PER_DAY)],
      );
    }
    return one(`SELECT count(*) AS n FROM messages ${whereClause(where)}`, values);
  }

  async stats(): Promise<Stats> {
    const refused = this.unusable();
    if (refused !== null) throw refused;
    // one statement: one snapshot, so the figures agree with each other
    const { rows } = await this.query<{
      total: string;
      senders: string;
      per_sender: { from: string; count: number }[];
      first_ts: string | null;
      last_ts: string | null;
    }>({ name: 'stats', text: STATS_SQL });
    const row = rows[0];
    return {
      total_messages: Number(row?.total ?? 0),
      senders_count: Number(row?.senders ?? 0),
      messages_per_sender: (row?.per_sender ?? []).map(({ from, count }) => ({
        from,
        count: Number(count),
      })),
      first_message_ts: row?.first_ts ?? null,
      last_message_ts: row?.last_ts ?? null,
    };
  }

  // ---- health and shutdown ----

  async check(): Promise<StoreHealth> {
    let version: number;
    try {
      const { rows } = await this.pool.query<{ version: number | null }>(
        'SELECT max(version) AS version FROM schema_migrations',
      );
      version = rows[0]?.version ?? 0;
    } catch (error) {
      // undefined_table: the database answers, but nothing has been migrated yet
      if ((error as { code?: unknown }).code !== '42P01') {
        return { database: `no answer: ${describeError(error)}`, schema: 'unknown' };
      }
      version = 0;
    }
    // A newer schema (another replica already runs a later release) still holds ours.
    if (version >= this.latestVersion) {
      this.migrated = true;
      return { database: 'ok', schema: 'ok' };
    }
    // The database answers again: no need to wait out the backoff.
    if (!this.migrated) this.wake?.();
    return { database: 'ok', schema: `at version ${version} of ${this.latestVersion}` };
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.wake?.();
    // commit what was accepted before the close
    while (this.pending.length > 0 || this.writing.size > 0) {
      this.flush();
      await Promise.all(this.writing);
    }
    await this.migrating;
    await this.started.catch(() => undefined);
    await this.pool.end();
  }
}

/** A promise settled once, by whoever comes first; later calls do nothing. */
class Outcome {
  settled = false;
  readonly promise: Promise<void>;
  private resolve: () => void = () => undefined;
  private reject: (error: unknown) => void = () => undefined;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  settle(error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (error === undefined) this.resolve();
    else this.reject(error);
  }
}

/**
 * Server side, a statement or a lock wait longer than `ms` is cancelled (57014, 55P03); the
 * client-side timeout is a backstop for a server that stopped answering altogether.
 */
function timeouts(ms: number): pg.ClientConfig {
  return {
    statement_timeout: ms,
    lock_timeout: ms,
    query_timeout: ms + CLIENT_TIMEOUT_MARGIN_MS,
    // a transaction left open by a vanished client must not hold its locks for long
    idle_in_transaction_session_timeout: Math.max(ms, MIGRATION_TIMEOUT_MS),
  };
}

function whereClause(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}
