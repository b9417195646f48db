import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Failure } from './usage.js';

const STDIN_HINT = 'reading standard input (end with Ctrl-D)\n';

/** FILE's exact bytes, or standard input's when `path` is undefined or `-`. */
export async function readInput(path: string | undefined): Promise<Buffer> {
  if (path === undefined || path === '-') {
    if (process.stdin.isTTY) process.stderr.write(STDIN_HINT);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (error) {
    throw new Failure(`cannot read ${path}: ${(error as Error).message}`);
  }
}

export interface LineSource {
  /** batches of lines, without their '\n' */
  batches: AsyncIterable<Buffer[]>;
  /** the size in bytes, when known (a regular file) */
  size: number | null;
}

/** Opens FILE (or standard input for `-`) as lines of bytes. */
export async function openLines(path: string): Promise<LineSource> {
  if (path === '-') {
    if (process.stdin.isTTY) process.stderr.write(STDIN_HINT);
    return { batches: splitLines(process.stdin), size: null };
  }
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new Error('is a directory');
    size = info.isFile() ? info.size : 0;
  } catch (error) {
    throw new Failure(`cannot read ${path}: ${(error as Error).message}`);
  }
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  return { batches: splitLines(stream), size: size > 0 ? size : null };
}

/** Splits a byte stream on '\n', yielding the complete lines of each chunk together. */
async function* splitLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer[]> {
  let carry: Buffer[] = [];
  for await (const piece of stream) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(10, start);
      if (end === -1) break;
      const line = chunk.subarray(start, end);
      lines.push(carry.length === 0 ? line : Buffer.concat([...carry, line]));
      carry = [];
      start = end + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
    if (lines.length > 0) yield lines;
  }
  if (carry.length > 0) yield [Buffer.concat(carry)];
}
