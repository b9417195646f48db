import pg from 'pg';
import { Listeners, type MessageListener } from '../listeners.js';
import { type StoredMessage, type StoreLogger, StoreUnavailableError } from '../store.js';
import { describeError } from './errors.js';
import { unescapeText } from './escape.js';
import { NOTIFY_CHANNEL } from './sql.js';

/** Wait before listening again after the listening connection was lost. */
const RECONNECT_MS = 1000;

/**
 * Store.subscribe on PostgreSQL. Every insert announces its new rows' ids on a channel of the
 * schema (NOTIFY, delivered when the transaction commits, to every process listening on the
 * database); here one dedicated connection LISTENs while anyone is subscribed, fetches the
 * announced rows (those of one turn of the event loop in one query) and hands them on. So a
 * message stored by one replica reaches the subscribers of every replica.
 *
 * Notifications sent while the connection is down are lost to it; the event stream's replay
 * from the store (GET /events with Last-Event-ID) is what makes a reader whole again.
 */
export class Notifications {
  private readonly listeners = new Listeners();
  private client: pg.Client | null = null;
  private pending: string[] = [];
  /** the deliveries run one after another, so that messages reach listeners in commit order */
  private delivering: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;
  /** settles once the current connection listens, or fails to */
  private listening: Promise<void> = Promise.resolve();

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly fetch: (ids: string[]) => Promise<pg.QueryResult<StoredMessage>>,
    private readonly logger: StoreLogger,
  ) {}

  /** Resolves once the connection listens, so that nothing committed afterwards is missed. */
  async subscribe(listener: MessageListener): Promise<() => void> {
    if (this.stopped) throw new StoreUnavailableError('PostgreSQL: the store is closed');
    const remove = this.listeners.add(listener);
    const unsubscribe = () => {
      remove();
      if (this.listeners.size === 0) this.unlisten();
    };
    if (this.client === null) {
      if (this.retry !== null) clearTimeout(this.retry);
      this.retry = null;
      this.listen();
    }
    try {
      await this.listening;
    } catch (error) {
      unsubscribe();
      throw new StoreUnavailableError(`PostgreSQL: cannot listen (${describeError(error)})`);
    }
    return unsubscribe;
  }

  private listen(): void {
    if (this.stopped) return;
    const client = new pg.Client(this.connection);
    this.client = client;
    client.on('notification', (note) => {
      if (note.payload === undefined) return;
      if (this.pending.length === 0) {
        setImmediate(() => {
          this.delivering = this.delivering.then(() => this.deliver());
        });
      }
      this.pending.push(note.payload);
    });
    const lost = (error: unknown) => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => {});
      this.logger.warn({ error: describeError(error) }, 'listening connection lost');
      if (this.listeners.size > 0 && !this.stopped) {
        this.retry = setTimeout(() => {
          this.retry = null;
          if (this.listeners.size > 0) this.listen();
        }, RECONNECT_MS);
      }
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('connection ended')));
    this.listening = (async () => {
      await client.connect();
      const { rows } = await client.query<{ channel: string }>(
        `SELECT ${NOTIFY_CHANNEL} AS channel`,
      );
      await client.query(`LISTEN "${rows[0]?.channel ?? ''}"`);
    })();
    this.listening.catch(lost);
  }

  private unlisten(): void {
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    const client = this.client;
    this.client = null;
    client?.end().catch(() => {});
  }

  private async deliver(): Promise<void> {
    const ids = this.pending;
    this.pending = [];
    try {
      const { rows } = await this.fetch(ids);
      for (const row of rows) {
        this.listeners.emit({
          message_id: unescapeText(row.message_id),
          from: row.from,
          to: row.to,
          ts: row.ts,
          text: row.text === null ? null : unescapeText(row.text),
        });
      }
    } catch (error) {
      this.logger.warn({ error: describeError(error) }, 'new messages could not be read');
    }
  }

  stop(): void {
    this.stopped = true;
    this.unlisten();
  }
}
