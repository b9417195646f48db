/**
 * Progress on standard error: on a terminal one line redrawn in place (at most 10 times a
 * second), otherwise a plain line at every tenth of the way (or every 100,000 messages when the
 * end is unknown).
 */

const WIDTH = 30;
const REDRAW_MS = 100;
const UNKNOWN_STEP = 100_000;

export interface Progress {
  /** `done` of `total` (same unit, e.g. messages or bytes); `rows` messages handled so far */
  update(done: number, total: number | null, rows: number): void;
  /** clears the terminal line */
  end(): void;
}

function rate(rows: number, started: number): string {
  const seconds = (performance.now() - started) / 1000;
  return seconds > 0 ? `${Math.round(rows / seconds)} rows/s` : '';
}

export function progress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = performance.now();
  if (stream.isTTY) {
    let drawn = 0;
    let shown = false;
    return {
      update(done, total, rows) {
        const now = performance.now();
        if (now - drawn < REDRAW_MS && done !== total) return;
        drawn = now;
        shown = true;
        let line = `${rows} messages  ${rate(rows, started)}`;
        if (total !== null && total > 0) {
          const share = Math.min(done / total, 1);
          const filled = Math.round(share * WIDTH);
          line = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${line}`;
        }
        stream.write(`\r${line}\x1b[K`);
      },
      end() {
        if (shown) stream.write('\r\x1b[K');
      },
    };
  }
  let next = 1;
  return {
    update(done, total, rows) {
      if (total !== null && total > 0) {
        const tenth = Math.floor((done / total) * 10);
        if (tenth < next || done === 0) return;
        next = tenth + 1;
        stream.write(`seeding: ${tenth * 10}%, ${rows} messages, ${rate(rows, started)}\n`);
      } else if (rows >= next * UNKNOWN_STEP) {
        next = Math.floor(rows / UNKNOWN_STEP) + 1;
        stream.write(`seeding: ${rows} messages, ${rate(rows, started)}\n`);
      }
    },
    end() {},
  };
}
