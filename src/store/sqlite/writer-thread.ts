import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { openConnection, WRITER_CACHE_KIB } from './connection.js';
import { type ThreadReply, transferableError } from './thread.js';
import { IndexingWriter, SqliteWriter, type WriteItem, type WriteOutcome } from './writer.js';

/**
 * The writer thread of a file-backed SqliteStore: it owns the write connection, commits the
 * batches it is sent and answers each with its outcomes, and indexes for search when idle.
 *
 * Batches that arrive while a commit runs queue up; the next commit takes all of them at once
 * (one transaction, one fsync), so the more the thread lags, the larger and cheaper per message
 * its commits become, while the HTTP thread goes on reading requests.
 */

export type WriterRequest = { type: 'write'; id: number; rows: WriteItem[] } | { type: 'close' };

const port = parentPort;
if (port === null) throw new Error('writer-thread.ts runs as a worker thread');

const db = openConnection((workerData as { path: string }).path, WRITER_CACHE_KIB);
const writer = new IndexingWriter(new SqliteWriter(db));

function close(): void {
  writer.stop();
  db.close();
  port?.close();
}

port.on('message', (first: WriterRequest) => {
  const batches: { id: number; rows: WriteItem[] }[] = [];
  let closing = false;
  for (let request: WriterRequest | undefined = first; request !== undefined; ) {
    if (request.type === 'close') closing = true;
    else batches.push(request);
    request = receiveMessageOnPort(port)?.message as WriterRequest | undefined;
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
        } satisfies ThreadReply<WriteOutcome[]>);
        offset += rows.length;
      }
    } catch (error) {
      for (const { id } of batches) {
        port.postMessage({
          id,
          ok: false,
          error: transferableError(error),
        } satisfies ThreadReply<WriteOutcome[]>);
      }
    }
  }
  if (closing) close();
});
