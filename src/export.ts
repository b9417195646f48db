import { Readable } from 'node:stream';
import { type Position, positionOf } from './cursor.js';
import { storedMessageJson } from './message.js';
import type { ListFilter, Store, StoredMessage } from './store/store.js';

/**
 * Exports: every message matching a filter, in GET /messages order, as NDJSON (one JSON object
 * per line) or CSV (RFC 4180: a header row, CRLF line ends, UTF-8). The messages are read in
 * keyset chunks (Store.scan) only as fast as the reader takes them: one chunk is read ahead
 * while the last one is written, and no more until the stream's buffer has room again, so a slow
 * client holds at most two chunks and a buffer in memory, and a stream that is destroyed (the
 * client went away) reads nothing more.
 *
 * CSV cells are written verbatim, never altered: a cell starting with =, +, - or @ is not
 * prefixed or escaped (every `from` and `to` starts with +, and an export must round-trip). A
 * missing text is an empty cell, an empty text the quoted empty string "".
 */

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Messages per keyset read. */
export const EXPORT_CHUNK = 2000;

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

const COLUMNS = ['message_id', 'from', 'to', 'ts', 'text'] as const;
export const CSV_HEADER = `${COLUMNS.join(',')}\r\n`;

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field: quoted when it holds a quote, comma or line break, or is the empty string. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || NEEDS_QUOTES.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

export function csvRecord(message: StoredMessage): string {
  return `${COLUMNS.map((column) => csvField(message[column])).join(',')}\r\n`;
}

export function ndjsonRecord(message: StoredMessage): string {
  return `${storedMessageJson(message)}\n`;
}

export interface ExportOptions {
  /** messages per keyset read (default EXPORT_CHUNK) */
  chunk?: number;
  /** called after each chunk with the number of messages written so far */
  onProgress?(rows: number): void;
}

/**
 * A byte stream of the export. Call `start()` first: it reads the first chunk, so that a
 * database that cannot answer fails before anything is sent; a failure after that destroys the
 * stream (the answer is then cut short, which an NDJSON or CSV reader sees as a torn last line).
 */
export class ExportStream extends Readable {
  private after: Position | undefined;
  private first: StoredMessage[] | null = null;
  /** the chunk being read ahead, if any */
  private next: Promise<StoredMessage[]> | null = null;
  private rows = 0;
  private ended = false;
  /** written before the first record */
  private header: string;
  private readonly chunk: number;

  constructor(
    private readonly store: Store,
    private readonly wanted: ListFilter,
    private readonly format: ExportFormat,
    private readonly options: ExportOptions = {},
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.chunk = options.chunk ?? EXPORT_CHUNK;
    this.header = format === 'csv' ? CSV_HEADER : '';
  }

  async start(): Promise<this> {
    this.first = await this.store.scan(this.wanted, undefined, this.chunk);
    return this;
  }

  override _read(): void {
    if (this.ended) return;
    const first = this.first;
    if (first !== null) {
      this.first = null;
      this.deliver(first);
      return;
    }
    const pending = this.next ?? this.fetch();
    this.next = null;
    pending.then(
      (messages) => {
        if (!this.destroyed) this.deliver(messages);
      },
      (error) => this.destroy(error),
    );
  }

  /** The chunk after the last one delivered. */
  private fetch(): Promise<StoredMessage[]> {
    return this.store.scan(this.wanted, this.after, this.chunk);
  }

  private deliver(messages: StoredMessage[]): void {
    const record = this.format === 'csv' ? csvRecord : ndjsonRecord;
    let text = this.header;
    this.header = '';
    for (const message of messages) text += record(message);
    this.rows += messages.length;
    const last = messages.at(-1);
    if (last !== undefined) this.after = positionOf(last);
    this.options.onProgress?.(this.rows);
    if (messages.length < this.chunk) this.ended = true;
    // the next chunk is read while this one is written out: one chunk ahead, no more
    if (!this.ended) {
      const next = this.fetch();
      next.catch(() => undefined); // judged when it is taken (or dropped with the stream)
      this.next = next;
    }
    if (text !== '') this.push(text, 'utf8');
    if (this.ended) this.push(null);
  }
}
