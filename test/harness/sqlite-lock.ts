import { spawn } from 'node:child_process';
import { ROOT } from './server.js';

export interface WriteLock {
  /** lets the lock go (commits); resolves once the holding process has exited */
  release(): Promise<void>;
  /** resolves when the holding process has let the lock go and exited */
  done: Promise<void>;
  /** false once the holding process has exited (it holds the lock until it exits) */
  held(): boolean;
}

/**
 * Holds the write lock on the SQLite file `path` from another process until release(), or for
 * at most `ms` (a backstop: pass more than the test needs when it releases the lock itself).
 * Resolves once the lock is held; rejects, instead of waiting forever, when the process exits
 * first or does not hold the lock within `startMs`.
 */
export function holdWriteLock(path: string, ms: number, startMs = 20_000): Promise<WriteLock> {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    const release = () => { db.exec('COMMIT'); db.close(); process.exit(0); };
    setTimeout(release, Number(process.argv[2]));
    process.stdin.on('data', release);
    process.stdin.on('end', release);`;
  const child = spawn(process.execPath, ['-e', script, path, String(ms)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let exited = false;
  let stderr = '';
  child.stdin.on('error', () => undefined); // released by a process that had already exited
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const lock: WriteLock = {
    release() {
      if (!exited) child.stdin.end('release\n');
      return done;
    },
    done,
    held: () => !exited,
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`holdWriteLock: ${path} was not locked within ${startMs} ms: ${stderr}`));
    }, startMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stdout.once('data', () => {
      clearTimeout(timer);
      resolve(lock);
    });
    void done.then(() => {
      clearTimeout(timer);
      reject(new Error(`holdWriteLock: the process exited before locking ${path}: ${stderr}`));
    });
  });
}
