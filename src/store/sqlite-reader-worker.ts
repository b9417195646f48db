import { parentPort, workerData } from 'node:worker_threads';
import { SqliteReader } from './sqlite-reader.js';
import type { ReadRequest } from './sqlite-readers.js';
import { describeError, type ThreadReply } from './sqlite-thread.js';
import { openConnection, READER_CACHE_KIB } from './sqlite-writer.js';

/** A reader thread of a file-backed SqliteStore: answers list and stats queries, one at a time. */

const port = parentPort;
if (port === null) throw new Error('sqlite-reader-worker.ts runs as a worker thread');

const db = openConnection((workerData as { path: string }).path, READER_CACHE_KIB);
const reader = new SqliteReader(db);

port.on('message', (request: (ReadRequest & { id: number }) | { type: 'close' }) => {
  if (request.type === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: ThreadReply<unknown>;
  try {
    const value =
      request.type === 'list' ? reader.list(request.filter, request.page) : reader.stats();
    reply = { id: request.id, ok: true, value };
  } catch (error) {
    reply = { id: request.id, ok: false, error: describeError(error) };
  }
  port.postMessage(reply);
});
