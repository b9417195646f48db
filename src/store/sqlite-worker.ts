import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  IndexingWriter,
  openConnection,
  type Row,
  SqliteWriter,
  WRITER_CACHE_KIB,
} from './sqlite-writer.js';

/**
 * The writer thread of a file-backed SqliteStore: it owns the write connection, commits the
 * batches it is sent and answers each with its outcomes, and indexes for search when idle.
 *
 * Batches that arrive while a commit runs queue up; the next commit takes all of them at once
 * (one transaction, one fsync), so the more the thread lags, the larger and cheaper per message
 * its commits become, while the HTTP thread goes on reading requests.
 */

export type WorkerRequest = { type: 'write'; id: number; rows: Row[] } | { type: 'close' };

export type WorkerReply =
  | { type: 'written'; id: number; outcomes: ('created' | 'duplicate')[] }
  | { type: 'failed'; id: number; error: { code?: string; message: string } }
  | { type: 'closed' };

function describe(error: unknown): { code?: string; message: string } {
  const code = (error as { code?: unknown }).code;
  return {
    code: typeof code === 'string' ? code : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}

const port = parentPort;
if (port === null) throw new Error('sqlite-worker.ts runs as a worker thread');

const db = openConnection((workerData as { path: string }).path, WRITER_CACHE_KIB);
const writer = new IndexingWriter(new SqliteWriter(db));

function close(): void {
  writer.stop();
  db.close();
  port?.postMessage({ type: 'closed' } satisfies WorkerReply);
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
          type: 'written',
          id,
          outcomes: outcomes.slice(offset, offset + rows.length),
        } satisfies WorkerReply);
        offset += rows.length;
      }
    } catch (error) {
      for (const { id } of batches) {
        port.postMessage({ type: 'failed', id, error: describe(error) } satisfies WorkerReply);
      }
    }
  }
  if (closing) close();
});
