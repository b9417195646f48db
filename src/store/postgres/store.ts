import pg from 'pg';
import { parseInstant } from '../../instant.js';
import type { Message } from '../../message.js';
import { BatchQueue } from '../batch-queue.js';
import type { MessageListener } from '../listeners.js';
import { readMigrations } from '../migrations.js';
import { detailsOf } from '../records.js';
import {
  type DayCount,
  type Delivery,
  type DeliveryOutcome,
  type InsertOutcome,
  type ListFilter,
  type MessageDetails,
  type MessagePage,
  type MessageRecord,
  type Page,
  type Stats,
  type StatusFilter,
  type StatusPage,
  type StatusPageRequest,
  type StatusStats,
  type Store,
  type StoredMessage,
  type StoreHealth,
  type StoreLogger,
  StoreUnavailableError,
} from '../store.js';
import { planTotal } from '../totals.js';
import { describeError } from './errors.js';
import { escapeText, unescapeText } from './escape.js';
import { migrate } from './migrate.js';
import { Notifications } from './notifications.js';
import { MIGRATION_TIMEOUT_MS, queryRetrying, timeouts } from './retry.js';
import {
  literal,
  MESSAGE_COLUMNS,
  MESSAGES_BY_ID_SQL,
  STATS_SQL,
  totalQuery,
  whereClause,
} from './sql.js';
import { StartUp } from './startup.js';
import { dailyCounts, getMessage, listStatuses, statusStats } from './statuses.js';
import { type Insert, writeDelivery, writeMessages } from './writes.js';

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

/**
 * The shared store for running several replicas of the service against one PostgreSQL.
 *
 * Every process is stateless: the primary key on message_id decides what is new
 * (`INSERT … ON CONFLICT DO NOTHING`), so deliveries of one id racing on different processes
 * store one row and exactly one of them is told 'created'. Inserts are group-committed (see
 * ../batch-queue.ts) into multi-row statements of at most MAX_BATCH_ROWS, with up to
 * poolSize − 1 statements in flight so that one connection stays free for reads and health
 * checks. Each statement commits on its own (autocommit: with synchronous_commit on,
 * PostgreSQL's default, the row is in the WAL on disk) before any of its callers is answered.
 *
 * The process starts even when the database is unreachable (see startup.ts).
 */
export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  private readonly latestVersion: number;
  private readonly startUp: StartUp;
  private readonly inserts: BatchQueue<Insert, InsertOutcome>;
  private readonly notifications: Notifications;
  private closed = false;
  private closing: Promise<void> | null = null;

  /** See StartUp.started: openStore awaits it. */
  readonly started: Promise<void>;

  constructor(options: PostgresStoreOptions) {
    const logger = options.logger ?? SILENT;
    const connection: pg.ClientConfig = {
      connectionString: options.url,
      // waiting for a new connection, or (in the pool) for a free one
      connectionTimeoutMillis: options.timeoutMs,
      keepAlive: true,
      application_name: 'webhook-receiver',
    };
    this.pool = new pg.Pool({
      ...connection,
      max: options.poolSize,
      ...timeouts(options.timeoutMs),
    });
    // An idle connection that breaks (server restart, pg_terminate_backend) is reported here;
    // the pool has already dropped it. Without a listener the process would crash.
    this.pool.on('error', (error) =>
      logger.warn({ error: describeError(error) }, 'database connection lost'),
    );
    this.inserts = new BatchQueue({
      write: (batch) => writeMessages((config) => this.query(config), batch),
      maxInFlight: Math.max(1, options.poolSize - 1),
      maxBatch: MAX_BATCH_ROWS,
    });
    this.notifications = new Notifications(
      connection,
      (ids) => this.query<StoredMessage>({ text: MESSAGES_BY_ID_SQL, values: [ids] }),
      logger,
    );
    const migrations = readMigrations('postgres');
    this.latestVersion = migrations.length;
    this.startUp = new StartUp(
      async () => {
        const applied = await migrate(
          { ...connection, ...timeouts(MIGRATION_TIMEOUT_MS) },
          migrations,
        );
        logger.info(
          { database: 'postgres', applied, schema_version: this.latestVersion },
          applied.length > 0 ? 'database schema migrated' : 'database schema up to date',
        );
      },
      logger,
      options.timeoutMs,
    );
    this.started = this.startUp.started;
  }

  /** Requests are refused quickly while the schema is not in place (or the store is closed). */
  private unusable(): StoreUnavailableError | null {
    if (this.closed) return new StoreUnavailableError('PostgreSQL: the store is closed');
    if (this.startUp.migrated) return null;
    return new StoreUnavailableError(
      `PostgreSQL: the schema is not applied yet (${this.startUp.failure})`,
    );
  }

  private query<R extends pg.QueryResultRow>(config: pg.QueryConfig) {
    return queryRetrying<R>(this.pool, config, !this.closed);
  }

  // ---- writes ----

  insert(message: Message, details?: Partial<MessageDetails>): Promise<InsertOutcome> {
    const refused = this.unusable();
    if (refused !== null) return Promise.reject(refused);
    const instant = parseInstant(message.ts);
    if (instant === null) return Promise.reject(new TypeError('ts is not a valid instant'));
    return this.inserts.push({
      id: escapeText(message.message_id),
      message,
      details: detailsOf(details),
      instant,
    });
  }

  /** Its own statement, outside the group commit of single inserts (see writeDelivery). */
  storeDelivery(delivery: Delivery): Promise<DeliveryOutcome> {
    const refused = this.unusable();
    if (refused !== null) return Promise.reject(refused);
    return writeDelivery((config) => this.query(config), delivery);
  }

  // ---- reads ----

  async list(filter: ListFilter, page: Page): Promise<MessagePage> {
    this.refuseIfUnusable();
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    if (filter.from !== undefined) where.push(`sender = ${param(filter.from)}`);
    if (filter.since !== undefined) where.push(`ts_us >= ${param(String(filter.since))}::bigint`);
    // LIKE with every special character escaped, so that the trigram index can serve it:
    // %, _ and \ in q are ordinary characters
    if (filter.q !== undefined) {
      where.push(`text_folded LIKE ${param(`%${literal(escapeText(filter.q))}%`)}`);
    }
    const counting =
      filter.q === undefined
        ? this.number(totalQuery(planTotal(filter)))
        : this.number({
            text: `SELECT count(*) AS n FROM messages ${whereClause(where)}`,
            values: [...values],
          });
    const desc = page.order === 'desc';
    if (page.after !== undefined) {
      where.push(
        `(ts_us, message_id) ${desc ? '<' : '>'} (${param(String(page.after.instant))}::bigint, ` +
          `${param(escapeText(page.after.messageId))}::text COLLATE "C")`,
      );
    }
    const pageSql = `
      SELECT ${MESSAGE_COLUMNS} FROM messages
      ${whereClause(where)}
      ORDER BY ${desc ? 'ts_us DESC, message_id DESC' : 'ts_us, message_id'}
      LIMIT ${param(page.limit + 1)}::integer OFFSET ${param(String(page.offset))}::bigint`;
    const [total, listed] = await Promise.all([
      counting,
      this.query<StoredMessage>({ text: pageSql, values }),
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

  async listStatuses(filter: StatusFilter, page: StatusPageRequest): Promise<StatusPage> {
    this.refuseIfUnusable();
    return listStatuses((config) => this.query(config), filter, page);
  }

  async statusStats(): Promise<StatusStats> {
    this.refuseIfUnusable();
    return statusStats((config) => this.query(config));
  }

  async dailyCounts(days: number, from?: string): Promise<DayCount[]> {
    this.refuseIfUnusable();
    return dailyCounts((config) => this.query(config), days, from);
  }

  private refuseIfUnusable(): void {
    const refused = this.unusable();
    if (refused !== null) throw refused;
  }

  async get(messageId: string): Promise<MessageRecord | null> {
    this.refuseIfUnusable();
    return getMessage((config) => this.query(config), messageId);
  }

  /** The number a one-row, one-column `n` query returns. */
  private async number(query: { text: string; values: unknown[] }): Promise<number> {
    const { rows } = await this.query<{ n: string | null }>(query);
    return Number(rows[0]?.n ?? 0);
  }

  async stats(): Promise<Stats> {
    this.refuseIfUnusable();
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

  /** New messages of every process sharing the database, through LISTEN/NOTIFY. */
  subscribe(listener: MessageListener): Promise<() => void> {
    return this.notifications.subscribe(listener);
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
      this.startUp.migrated = true;
      return { database: 'ok', schema: 'ok' };
    }
    this.startUp.retryNow();
    return { database: 'ok', schema: `at version ${version} of ${this.latestVersion}` };
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.notifications.stop();
    const stopping = this.startUp.stop();
    // commit what was accepted before the close
    await this.inserts.drain();
    await stopping;
    await this.pool.end();
  }
}
