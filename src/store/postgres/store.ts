import pg from 'pg';
import type { Position } from '../../cursor.js';
import { parseInstant } from '../../instant.js';
import type { Message } from '../../message.js';
import { BatchQueue } from '../batch-queue.js';
import { CountCache, filterKey, type KeptCount, LIGHT_SENDER_ROWS } from '../count-cache.js';
import type { SweepOptions, SweepResult } from '../delete-batch.js';
import { FreshRead } from '../fresh.js';
import { jsonPageOf } from '../json-page.js';
import type { MessageListener } from '../listeners.js';
import { latestVersion, readMigrations } from '../migrations.js';
import { detailsOf } from '../records.js';
import { Semaphore } from '../semaphore.js';
import {
  type DayCount,
  type Delivery,
  type DeliveryOutcome,
  type EraseTarget,
  type InsertOutcome,
  type JsonPage,
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
import { deleteAll, erasure } from './erase.js';
import { describeError } from './errors.js';
import { escapeText } from './escape.js';
import { type ListedRow, listQuery, pageOf, type Snapshot } from './list.js';
import { migrate } from './migrate.js';
import { Notifications } from './notifications.js';
import { MIGRATION_TIMEOUT_MS, queryRetrying, timeouts } from './retry.js';
import { scanQuery, storedMessage } from './scan.js';
import { MESSAGES_BY_ID_SQL } from './sql.js';
import { StartUp } from './startup.js';
import { readStats } from './stats.js';
import { dailyCounts, getMessage, listStatuses, statusStats } from './statuses.js';
import { sweep } from './sweep.js';
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

/**
 * Searches counted from scratch run one at a time in a process (the others wait their turn,
 * which no statement timeout counts): each keeps a core busy for hundreds of milliseconds on a
 * million messages, and the pages and kept totals of every other request need connections and
 * CPU meanwhile. Measured under the load harness's mix (50 connections, 1,000,000 messages):
 * with two or more at once, counts starved each other past the 5 s statement timeout.
 */
const HEAVY_AT_ONCE = 1;

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
  /** exact search totals, topped up by each list (see ../count-cache.ts) */
  private readonly counts = new CountCache<Snapshot>();
  /** searches counted from scratch (see HEAVY_SHARE) */
  private readonly heavy: Semaphore;
  private readonly freshStats = new FreshRead(() => this.readStats());
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
      // before a new connection is used: JIT compiling costs 10-25 ms per statement whose
      // estimate looks large (a search), more than those statements take once totals are kept
      // (pg-pool awaits the promise, although the type says void)
      onConnect: (client: pg.ClientBase) => client.query('SET jit = off'),
    });
    // An idle connection that breaks (server restart, pg_terminate_backend) is reported here;
    // the pool has already dropped it. Without a listener the process would crash.
    this.pool.on('error', (error) =>
      logger.warn({ error: describeError(error) }, 'database connection lost'),
    );
    this.heavy = new Semaphore(HEAVY_AT_ONCE);
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
    this.latestVersion = latestVersion(migrations);
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
    if (filter.q === undefined) return this.listed(filter, page);
    return this.counts.read(filterKey(filter), (kept) => this.listed(filter, page, kept));
  }

  /** Serialized on this thread: the rows come off the connection here anyway. */
  async listJson(filter: ListFilter, page: Page): Promise<JsonPage> {
    return jsonPageOf(await this.list(filter, page));
  }

  /** One statement: the page and its total (see list.ts); a search count from scratch is heavy. */
  private async listed(
    filter: ListFilter,
    page: Page,
    kept?: KeptCount<Snapshot>,
  ): Promise<MessagePage & { kept?: KeptCount<Snapshot> }> {
    const query = listQuery(filter, page, kept);
    const run = () => this.query<ListedRow>(query);
    const heavy = query.counts && !(await this.fewMessages(filter.from));
    const { rows } = await (heavy ? this.heavy.run(run) : run());
    return pageOf(rows, filter, page);
  }

  /** Whether the kept totals say `from` has at most LIGHT_SENDER_ROWS messages (none: no). */
  private async fewMessages(from: string | undefined): Promise<boolean> {
    if (from === undefined) return false;
    const { rows } = await this.query<{ messages: string }>({
      text: 'SELECT messages FROM sender_counts WHERE sender = $1',
      values: [from],
    });
    return Number(rows[0]?.messages ?? 0) <= LIGHT_SENDER_ROWS;
  }

  async scan(
    filter: ListFilter,
    after: Position | undefined,
    limit: number,
  ): Promise<StoredMessage[]> {
    this.refuseIfUnusable();
    const { rows } = await this.query<StoredMessage>(scanQuery(filter, after, limit));
    return rows.map(storedMessage);
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

  /** Concurrent requests share one query that started after they arrived (see ../fresh.ts). */
  async stats(): Promise<Stats> {
    this.refuseIfUnusable();
    return this.freshStats.get();
  }

  private readStats(): Promise<Stats> {
    return readStats((config) => this.query(config));
  }

  erase(target: EraseTarget): Promise<number> {
    const refused = this.unusable();
    return refused === null ? deleteAll(this.pool, erasure(target)) : Promise.reject(refused);
  }

  sweep(before: string, options?: SweepOptions): Promise<SweepResult | null> {
    const refused = this.unusable();
    return refused === null ? sweep(this.pool, before, options) : Promise.reject(refused);
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
