import { spawn } from 'node:child_process';
import { ROOT } from './server.js';

/**
 * Holds the write lock on the SQLite file `path` from another process for `ms`; resolves once
 * it is held, with `done` resolving when the process let it go and exited.
 */
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
