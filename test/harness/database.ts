/**
 * The database a load run writes to: a temporary SQLite file, or a fresh PostgreSQL database
 * created from an administrator's URL and dropped afterwards. Each can look at itself directly:
 * row counts, the totals the store keeps beside the rows, and the database's own integrity check.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export interface Inspection {
  /** rows in messages */
  rows: number;
  /** distinct message_id values in messages */
  distinctIds: number;
  /** what the database says about itself: each entry a check and its result */
  checks: Record<string, string>;
  /** checks that failed */
  problems: string[];
}

export interface Target {
  kind: 'sqlite' | 'postgres';
  /** DATABASE_URL for the server */
  databaseUrl: string;
  /** where it is, for the figures */
  where: string;
  /** run while no server is using it */
  inspect(): Promise<Inspection>;
  /**
   * Every message_id in the table, as stored (PostgreSQL stores U+0000 and U+0001 escaped:
   * other ids read back as sent).
   */
  storedIds(): Promise<Set<string>>;
  remove(): Promise<void>;
}

/** Compares the kept totals with the rows; `one` runs a query that returns one number. */
async function keptTotals(
  one: (sql: string) => Promise<number>,
  has: (table: string) => Promise<boolean>,
  rows: number,
  checks: Record<string, string>,
  problems: string[],
): Promise<void> {
  const compare = async (name: string, kept: string, actual: number) => {
    const value = await one(kept);
    checks[name] = `${value} (rows say ${actual})`;
    if (value !== actual) problems.push(`${name}: kept ${value}, the rows say ${actual}`);
  };
  const senders = await one('SELECT count(DISTINCT sender) FROM messages');
  if (await has('message_totals')) {
    await compare(
      'message_totals.messages',
      'SELECT coalesce(sum(messages), 0) FROM message_totals',
      rows,
    );
    await compare(
      'message_totals.senders',
      'SELECT coalesce(sum(senders), 0) FROM message_totals',
      senders,
    );
  }
  if (await has('sender_counts')) {
    await compare(
      'sum of sender_counts',
      'SELECT coalesce(sum(messages), 0) FROM sender_counts',
      rows,
    );
    await compare(
      'senders in sender_counts',
      'SELECT count(*) FROM sender_counts WHERE messages > 0',
      senders,
    );
  }
  if (await has('hour_counts')) {
    await compare('sum of hour_counts', 'SELECT coalesce(sum(messages), 0) FROM hour_counts', rows);
  }
}

export function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-crash-'));
  const path = join(dir, 'app.db');
  return {
    kind: 'sqlite',
    databaseUrl: `sqlite:///${path}`,
    where: path,
    async inspect() {
      const db = new Database(path, { fileMustExist: true });
      try {
        const one = async (sql: string) => Number(db.prepare(sql).pluck().get() ?? 0);
        const has = async (table: string) =>
          db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !==
          undefined;
        const checks: Record<string, string> = {};
        const problems: string[] = [];
        const integrity = (db.pragma('integrity_check') as { integrity_check: string }[])
          .map((row) => row.integrity_check)
          .join('; ');
        checks['PRAGMA integrity_check'] = integrity;
        if (integrity !== 'ok') problems.push(`integrity_check: ${integrity}`);
        const foreign = db.pragma('foreign_key_check') as unknown[];
        if (foreign.length > 0) problems.push(`foreign_key_check: ${foreign.length} rows`);
        const rows = await one('SELECT count(*) FROM messages');
        const distinctIds = await one('SELECT count(DISTINCT message_id) FROM messages');
        await keptTotals(one, has, rows, checks, problems);
        if (await has('messages_search')) {
          try {
            db.prepare(
              "INSERT INTO messages_search (messages_search) VALUES ('integrity-check')",
            ).run();
            checks['search index integrity-check'] = 'ok';
          } catch (error) {
            checks['search index integrity-check'] = (error as Error).message;
            problems.push(`search index: ${(error as Error).message}`);
          }
        }
        return { rows, distinctIds, checks, problems };
      } finally {
        db.close();
      }
    },
    async storedIds() {
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return new Set(db.prepare('SELECT message_id FROM messages').pluck().all() as string[]);
      } finally {
        db.close();
      }
    },
    async remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `run` on a connection of its own to `url`, closed afterwards. */
export async function withClient<T>(
  url: string,
  run: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh database on the server `adminUrl` names (an administrator's URL). */
export async function postgresTarget(adminUrl: string): Promise<Target> {
  const name = `webhook_crash_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) =>
    client.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    kind: 'postgres',
    databaseUrl,
    where: `database ${name}`,
    inspect: () =>
      withClient(databaseUrl, async (client) => {
        const one = async (sql: string) => {
          const result = await client.query<unknown[]>({ text: sql, rowMode: 'array' });
          return Number(result.rows[0]?.[0] ?? 0);
        };
        const has = async (table: string) =>
          (await client.query('SELECT to_regclass($1) IS NOT NULL AS found', [table])).rows[0]
            ?.found === true;
        const checks: Record<string, string> = {};
        const problems: string[] = [];
        const rows = await one('SELECT count(*) FROM messages');
        const distinctIds = await one('SELECT count(DISTINCT message_id) FROM messages');
        const indexes = await client.query<{
          name: string;
          valid: boolean;
          ready: boolean;
          unique: boolean;
        }>(
          `SELECT c.relname AS name, i.indisvalid AS valid, i.indisready AS ready, i.indisunique AS unique
           FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
           WHERE i.indrelid = 'messages'::regclass ORDER BY 1`,
        );
        for (const index of indexes.rows) {
          checks[`index ${index.name}`] = index.valid && index.ready ? 'valid' : 'NOT VALID';
          if (!index.valid || !index.ready) problems.push(`index ${index.name} is not valid`);
        }
        if (!indexes.rows.some((index) => index.unique))
          problems.push('no unique index on messages');
        try {
          await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
          const btrees = await client.query<{ name: string }>(
            `SELECT c.relname AS name FROM pg_index AS i
             JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS a ON a.oid = c.relam
             WHERE i.indrelid = 'messages'::regclass AND a.amname = 'btree'`,
          );
          for (const { name: index } of btrees.rows) {
            try {
              await client.query('SELECT bt_index_check($1::regclass, true)', [index]);
              checks[`amcheck ${index}`] = 'ok';
            } catch (error) {
              checks[`amcheck ${index}`] = (error as Error).message;
              problems.push(`amcheck ${index}: ${(error as Error).message}`);
            }
          }
        } catch (error) {
          checks.amcheck = `not available: ${(error as Error).message}`;
        }
        await keptTotals(one, has, rows, checks, problems);
        return { rows, distinctIds, checks, problems };
      }),
    storedIds: () =>
      withClient(databaseUrl, async (client) => {
        const result = await client.query<{ message_id: string }>(
          'SELECT message_id FROM messages',
        );
        return new Set(result.rows.map((row) => row.message_id));
      }),
    async remove() {
      await withClient(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}
