import { parentPort, workerData } from 'node:worker_threads';
import {
  IndexingWriter,
  openConnection,
  type Row,
  SqliteWriter,
  WRITER_CACHE_KIB,
} from './sqlite-writer.js';

/**
 * The writer thread of a file-backed SqliteStore: it owns the write connection, commits each
 * batch it is sent and answers with the outcomes, and indexes for search when idle.
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

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'close') {
    writer.stop();
    db.close();
    port.postMessage({ type: 'closed' } satisfies WorkerReply);
    port.close();
    return;
  }
  let reply: WorkerReply;
  try {
    reply = { type: 'written', id: request.id, outcomes: writer.write(request.rows) };
  } catch (error) {
    reply = { type: 'failed', id: request.id, error: describe(error) };
  }
  port.postMessage(reply);
});
