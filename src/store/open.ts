import type { DatabaseConfig } from '../config.js';
import { PostgresStore } from './postgres/store.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store, StoreLogger } from './store.js';

export interface OpenOptions {
  /** where a PostgreSQL store reports lost connections and background migration retries */
  logger?: StoreLogger;
}

/**
 * The store that DATABASE_URL names, with its schema migrated.
 *
 * A PostgreSQL store is returned even when the database cannot be reached yet: it then answers
 * requests with StoreUnavailableError, reports why in check(), and keeps retrying the migrations
 * in the background until it becomes ready by itself. It rejects only when the migrations fail
 * for a reason that retrying cannot fix.
 */
export async function openStore(
  database: DatabaseConfig,
  options: OpenOptions = {},
): Promise<Store> {
  switch (database.kind) {
    case 'sqlite':
      return new SqliteStore({ path: database.path });
    case 'postgres': {
      const store = new PostgresStore({
        url: database.url,
        poolSize: database.poolSize,
        timeoutMs: database.timeoutMs,
        logger: options.logger,
      });
      try {
        await store.started;
      } catch (error) {
        await store.close();
        throw error;
      }
      return store;
    }
  }
}
