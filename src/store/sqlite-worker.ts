import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { describeError, type ThreadReply } from './sqlite-thread.js';
import {
  IndexingWriter,
  openConnection,
  type Row,
  SqliteWriter,
  WRITER_CACHE_KIB,
} from './sqlite-writer.js';
import type { InsertOutcome } from './store.js';

/**
 * The writer thread of a file-backed SqliteStore: it owns the write connection, commits the
 * batches it is sent and answers each with its outcomes, and indexes for search when idle.
 *
 * Batches that arrive while a commit runs queue up; the next commit takes all of them at once
 * (one transaction, one fsync), so the more the thread lags, the larger and cheaper per message
 * its commits become, while the HTTP thread goes on reading requests.
 */

export type WorkerRequest = { type: 'write'; id: number; rows: Row[] } | { type: 'close' };

const port = parentPort;
if (port === null) throw new Error('sqlite-worker.ts runs as a worker thread');

const db = openConnection((workerData as { path: string }).path, WRITER_CACHE_KIB);
const writer = new IndexingWriter(new SqliteWriter(db));

function close(): void {
  writer.stop();
  db.close();
  port?.close();
}

port.on('message', (first: WorkerRequest) => {
  const batches: { id: number; rows: Row[] }[] = [];
  let closing = false;
  for (let request: WorkerRequest | undefined = first; request !== undefined; ) {
    if (request.type === 'close') closing = true;
    else batches.push(request);
    request = receiveMessageOnPort(port)?.message as WorkerRequest | undefined;
  }
  if (batches.length > 0) {
    try {
      const outcomes = writer.write(batches.flatMap((batch) => batch.rows));
      let offset = 0;
      for (const { id, rows } of batches) {
        port.postMessage({
          id,
          ok: true,
          value: outcomes.slice(offset, offset + rows.length),
        } satisfies ThreadReply<InsertOutcome[]>);
        offset += rows.length;
      }
    } catch (error) {
      for (const { id } of batches) {
        port.postMessage({
          id,
          ok: false,
          error: describeError(error),
        } satisfies ThreadReply<InsertOutcome[]>);
      }
    }
  }
  if (closing) close();
});
