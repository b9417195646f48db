/**
 * The built server (`node dist/server.js`, the production start command) as a child process on
 * a free port, with every line it prints kept and checked for JSON. The tests, the crash script
 * and the benchmark all start it through here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SERVER = join(ROOT, 'dist', 'server.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process was seen to exit */
  at: number;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  /** every complete line printed on stdout and stderr, parsed (request lines only when kept) */
  lines: Record<string, unknown>[];
  /** how many complete lines were printed */
  printed(): number;
  /** complete lines that were not one JSON object */
  notJson: string[];
  /** lines printed on stderr (the service prints nothing there) */
  stderr: string[];
  exited: Promise<Exit>;
  /** performance.now() just before the process was spawned */
  spawnedAt: number;
}

export interface StartOptions {
  /**
   * what node runs instead of dist/server.js (such as another script that prints the same
   * `started` line); relative paths are taken from the repository root
   */
  args?: string[];
  /** keep the parsed lines (a long load run may only want them checked); default true */
  keepLines?: boolean;
  /** give up waiting for the `started` line after this long; default 20 s */
  timeoutMs?: number;
  /**
   * listen on this port, and count the server as started once GET `probe` answers 2xx there,
   * whether or not a `started` line comes (LOG_LEVEL=ERROR hides it); default: PORT=0, and the
   * port the `started` line names
   */
  port?: number;
  /** default /health/live */
  probe?: string;
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Calls `onLine` for each complete line; a last line cut off by a crash is not one. */
function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) onLine(part);
  });
}

/**
 * Starts the built server with `env` (plus PATH, HOST=127.0.0.1, PORT=0) and waits for `started`
 * (or, with `port`, for the probe to answer).
 */
export function startServer(
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<ServerProcess> {
  if (options.args === undefined && !existsSync(SERVER)) {
    return Promise.reject(new Error('dist/server.js is missing: run `npm run build` first'));
  }
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, options.args ?? [SERVER], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(options.port ?? 0),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = options.keepLines ?? true;
  let spawnError: Error | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
    // a process that could not be spawned never exits: count it as exited, with the error
    child.on('error', (error) => {
      spawnError ??= error;
      if (child.pid === undefined) resolve({ code: null, signal: null, at: performance.now() });
    });
  });
  return new Promise((resolve, reject) => {
    const lines: Record<string, unknown>[] = [];
    const notJson: string[] = [];
    const stderr: string[] = [];
    let started = false;
    let printed = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${options.timeoutMs ?? 20_000} ms`));
    }, options.timeoutMs ?? 20_000);
    const onLine = (line: string, fromStderr: boolean) => {
      printed++;
      if (fromStderr) stderr.push(line);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        notJson.push(line);
        return;
      }
      const record = parsed as Record<string, unknown>;
      if (keep || record.msg !== 'request') lines.push(record);
      if (record.msg === 'started' && typeof record.port === 'number') ready(record.port);
    };
    const ready = (port: number) => {
      if (started) return;
      started = true;
      clearTimeout(timer);
      resolve({
        child,
        port,
        base: `http://127.0.0.1:${port}`,
        lines,
        printed: () => printed,
        notJson,
        stderr,
        exited,
        spawnedAt,
      });
    };
    if (options.port !== undefined) void probe(options.port, options.probe ?? '/health/live');
    async function probe(port: number, path: string): Promise<void> {
      while (!started && child.exitCode === null && child.signalCode === null) {
        const ok = await fetch(`http://127.0.0.1:${port}${path}`).then(
          (response) => response.ok,
          () => false,
        );
        if (ok) return ready(port);
        await sleep(50);
      }
    }
    if (child.stdout !== null) splitLines(child.stdout, (line) => onLine(line, false));
    if (child.stderr !== null) splitLines(child.stderr, (line) => onLine(line, true));
    exited.then((exit) => {
      clearTimeout(timer);
      if (!started) {
        const printed = [...lines.map((l) => JSON.stringify(l)), ...notJson].join('\n');
        const why =
          spawnError === null ? `exited (${exit.code ?? exit.signal})` : spawnError.message;
        reject(new Error(`the server ${why} before starting:\n${printed}`));
      }
    });
  });
}

/**
 * Sends `signal` and waits for the process to exit; one that is still running after
 * `timeoutMs` (its own shutdown bound is 10 s) is killed with SIGKILL, so the caller sees that
 * exit instead of waiting forever.
 */
export async function stopServer(
  server: ServerProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 30_000,
): Promise<Exit> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}
