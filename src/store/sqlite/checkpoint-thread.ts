import { parentPort, workerData } from 'node:worker_threads';
import { CHECKS_CACHE_KIB, openConnection } from './connection.js';

/**
 * The checkpointer thread of a file-backed SqliteStore: on a connection of its own, it copies
 * the write-ahead log into the database file (PASSIVE: it waits for no reader nor writer) every
 * CHECKPOINT_EVERY_MS (with nothing new in the log, a checkpoint copies and syncs nothing). A checkpoint runs beside the writer's commits
 * instead of inside one, so no acknowledgement and no retention step waits for it, and each
 * copies little. The writer's own automatic checkpoint (writer-thread.ts) only bounds the log
 * when this thread cannot keep up.
 */

export const CHECKPOINT_EVERY_MS = 200;

const port = parentPort;
if (port === null) throw new Error('checkpoint-thread.ts runs as a worker thread');

const db = openConnection((workerData as { path: string }).path, CHECKS_CACHE_KIB);
const timer = setInterval(() => {
  try {
    // busy (in its answer): another checkpoint ran meanwhile; this one is tried again later
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // the file is busy or failing: tried again at the next tick
  }
}, CHECKPOINT_EVERY_MS);

port.on('message', (request: { type: string }) => {
  if (request.type !== 'close') return;
  clearInterval(timer);
  db.close();
  port.close();
});
