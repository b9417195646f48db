import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Schema changes are numbered plain-SQL files, one folder per database:
 * `migrations/<dialect>/NNN_description.sql`, applied in order, each recorded with its version in
 * the `schema_migrations` table so that it runs exactly once.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE = /^(\d+)_([a-z0-9_]+)\.sql$/;

// src/store/ and dist/store/ both sit two levels below the package root
const ROOT = new URL('../../migrations/', import.meta.url);

export function readMigrations(dialect: 'sqlite' | 'postgres'): Migration[] {
  const folder = fileURLToPath(new URL(`${dialect}/`, ROOT));
  const migrations: Migration[] = [];
  for (const file of readdirSync(folder)) {
    const match = FILE.exec(file);
    if (match === null) continue;
    migrations.push({
      version: Number(match[1]),
      name: match[2] as string,
      sql: readFileSync(`${folder}${file}`, 'utf8'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  // Numbers are reserved ahead by the changes that will take them, so one may be missing for a
  // while; each is applied once whenever it appears (see migrate.ts).
  migrations.forEach((m, i) => {
    if (m.version <= (migrations[i - 1]?.version ?? 0))
      throw new Error(`migrations/${dialect}: version ${m.version} appears twice`);
  });
  return migrations;
}

/** The schema version once every migration is applied: the highest number. */
export function latestVersion(migrations: Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}
