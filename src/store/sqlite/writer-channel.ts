import type Database from 'better-sqlite3';
import { type DeleteBatch, isSweep } from '../delete-batch.js';
import { SqliteDeleter } from './erase.js';
import { IndexingWriter } from './idle-writer.js';
import { SqliteStatusDeleter } from './sweep.js';
import { Thread, threadModule } from './thread.js';
import { SqliteWriter, type WriteItem, type WriteOutcome } from './writer.js';

/** The writer thread's code. */
const WRITER_THREAD = threadModule(import.meta.resolve('./writer-thread.js'));
const CHECKPOINT_THREAD = threadModule(import.meta.resolve('./checkpoint-thread.js'));

/** Where a SqliteStore sends its insert batches. */
export interface WriterChannel {
  /** Commits `rows`; resolves with an outcome per row once the batch is on disk. */
  write(rows: WriteItem[]): Promise<WriteOutcome[]>;
  /** Deletes one batch in a transaction of its own; resolves with how many rows went. */
  delete(batch: DeleteBatch): Promise<number>;
  close(): Promise<void>;
}

/** Writes on the calling thread, through the store's own connection (`:memory:`). */
export class InlineWriter implements WriterChannel {
  private readonly writer: IndexingWriter;

  constructor(db: Database.Database) {
    this.writer = new IndexingWriter(
      new SqliteWriter(db),
      new SqliteDeleter(db),
      new SqliteStatusDeleter(db),
    );
  }

  async write(rows: WriteItem[]): Promise<WriteOutcome[]> {
    return this.writer.write(rows);
  }

  async delete(batch: DeleteBatch): Promise<number> {
    return isSweep(batch) ? this.writer.sweepWhenIdle(batch) : this.writer.delete(batch);
  }

  async close(): Promise<void> {
    this.writer.stop();
  }
}

/**
 * Writes in a worker thread with a connection of its own (writer-thread.ts). If the thread dies,
 * a batch it was writing fails with a 503, which is safe to retry (a message that did get
 * committed is then acknowledged as a duplicate).
 */
export class ThreadWriter implements WriterChannel {
  private readonly thread: Thread;
  /** copies the write-ahead log into the file beside the writer (checkpoint-thread.ts) */
  private readonly checkpointer: Thread;

  constructor(path: string) {
    this.thread = new Thread(WRITER_THREAD, 'writer', { path });
    this.checkpointer = new Thread(CHECKPOINT_THREAD, 'checkpointer', { path });
  }

  write(rows: WriteItem[]): Promise<WriteOutcome[]> {
    return this.thread.request({ type: 'write', rows });
  }

  delete(batch: DeleteBatch): Promise<number> {
    return this.thread.request({ type: 'delete', batch });
  }

  async close(): Promise<void> {
    await Promise.all([this.thread.close(), this.checkpointer.close()]);
  }
}
