import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type DeleteBatch, isSweep } from '../delete-batch.js';
import { openConnection, WRITER_AUTOCHECKPOINT_PAGES, WRITER_CACHE_KIB } from './connection.js';
import { SqliteDeleter } from './erase.js';
import { IndexingWriter } from './idle-writer.js';
import { SqliteStatusDeleter } from './sweep.js';
import { type ThreadReply, transferableError } from './thread.js';
import { SqliteWriter, type WriteItem, type WriteOutcome } from './writer.js';

/**
 * The writer thread of a file-backed SqliteStore: it owns the write connection, commits the
 * batches it is sent and answers each with its outcomes, and indexes for search when idle.
 *
 * Batches that arrive while a commit runs queue up; the next commit takes all of them at once
 * (one transaction, one fsync), so the more the thread lags, the larger and cheaper per message
 * its commits become, while the HTTP thread goes on reading requests.
 */

export type WriterRequest =
  | { type: 'write'; id: number; rows: WriteItem[] }
  | { type: 'delete'; id: number; batch: DeleteBatch }
  | { type: 'close' };

const port = parentPort;
if (port === null) throw new Error('writer-thread.ts runs as a worker thread');

const db = openConnection((workerData as { path: string }).path, WRITER_CACHE_KIB);
// The log is copied into the file beside this thread, a little at a time (checkpoint-thread.ts);
// a commit checkpoints by itself only once the log reached WRITER_AUTOCHECKPOINT_PAGES: a bound
// on the log when that thread cannot keep up, not the usual way.
db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
const writer = new IndexingWriter(
  new SqliteWriter(db),
  new SqliteDeleter(db),
  new SqliteStatusDeleter(db),
);

function close(): void {
  writer.stop();
  db.close();
  port?.close();
}

/** Commits the write batches that queued up together, as one transaction. */
function writeAll(batches: { id: number; rows: WriteItem[] }[]): void {
  if (batches.length === 0) return;
  try {
    const outcomes = writer.write(batches.flatMap((batch) => batch.rows));
    let offset = 0;
    for (const { id, rows } of batches) {
      port?.postMessage({
        id,
        ok: true,
        value: outcomes.slice(offset, offset + rows.length),
      } satisfies ThreadReply<WriteOutcome[]>);
      offset += rows.length;
    }
  } catch (error) {
    for (const { id } of batches) {
      port?.postMessage({
        id,
        ok: false,
        error: transferableError(error),
      } satisfies ThreadReply<WriteOutcome[]>);
    }
  }
}

/** An erasure batch now; a sweep batch in the thread's idle time (see idle-writer.ts). */
function deleteOne(id: number, batch: DeleteBatch): void {
  const reply = (value: ThreadReply<number>) => port?.postMessage(value);
  if (isSweep(batch)) {
    writer.sweepWhenIdle(batch).then(
      (value) => reply({ id, ok: true, value }),
      (error) => reply({ id, ok: false, error: transferableError(error) }),
    );
    return;
  }
  try {
    reply({ id, ok: true, value: writer.delete(batch) });
  } catch (error) {
    reply({ id, ok: false, error: transferableError(error) });
  }
}

// Requests are served in the order they came; consecutive writes share one transaction, and a
// delete batch (one short transaction of its own) runs between them.
port.on('message', (first: WriterRequest) => {
  let batches: { id: number; rows: WriteItem[] }[] = [];
  let closing = false;
  for (let request: WriterRequest | undefined = first; request !== undefined; ) {
    if (request.type === 'close') closing = true;
    else if (request.type === 'write') batches.push(request);
    else {
      writeAll(batches);
      batches = [];
      deleteOne(request.id, request.batch);
    }
    request = receiveMessageOnPort(port)?.message as WriterRequest | undefined;
  }
  writeAll(batches);
  if (closing) close();
});
