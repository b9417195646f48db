import { parentPort, workerData } from 'node:worker_threads';
import { openConnection, READER_CACHE_KIB } from './connection.js';
import { SqliteReader } from './reader.js';
import { answer, type ReadRequest } from './reader-channel.js';
import { type ThreadReply, transferableError } from './thread.js';

/** A reader thread of a file-backed SqliteStore: answers list and stats queries, one at a time. */

const port = parentPort;
if (port === null) throw new Error('reader-thread.ts runs as a worker thread');

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
    reply = { id: request.id, ok: true, value: answer(reader, request) };
  } catch (error) {
    reply = { id: request.id, ok: false, error: transferableError(error) };
  }
  port.postMessage(reply);
});
