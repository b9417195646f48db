import type { DatabaseConfig } from '../config.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/** The store that DATABASE_URL names, with its schema migrated. */
export async function openStore(database: DatabaseConfig): Promise<Store> {
  switch (database.kind) {
    case 'sqlite':
      return new SqliteStore({ path: database.path });
    case 'postgres':
      throw new Error('DATABASE_URL names PostgreSQL, which this version does not support yet');
  }
}
