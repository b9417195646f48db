import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The built server (`node dist/server.js`, the production start command), run by a test. */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SERVER = join(ROOT, 'dist', 'server.js');

export interface Running {
  child: ChildProcess;
  base: string;
  /** every line the process wrote, stdout and stderr */
  lines: string[];
  exited: Promise<number | null>;
}

/**
 * Starts the built server on a free port of 127.0.0.1 with only PATH and `env` in its
 * environment; resolves once it logged `started`. Every line it prints must be JSON.
 */
export function startServer(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [SERVER], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        const parsed = JSON.parse(line);
        if (parsed.msg === 'started')
          resolve({ child, base: `http://127.0.0.1:${parsed.port}`, lines, exited });
      });
    }
    exited.then((code) => reject(new Error(`server exited with ${code}: ${lines.join('\n')}`)));
  });
}

/** Holds the write lock on the SQLite file `path` from another process for `ms`; resolves once held. */
export function holdWriteLock(path: string, ms: number): Promise<{ done: Promise<void> }> {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[2]));`;
  const child = spawn(process.execPath, ['-e', script, path, String(ms)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve) => child.stdout.once('data', () => resolve({ done })));
}
