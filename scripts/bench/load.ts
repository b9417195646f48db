/**
 * One load run for scripts/bench.ts: wrk with load.lua when wrk is installed (it costs the
 * machine far less than a Node load generator), else autocannon. Both send the same requests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export interface LoadOptions {
  base: string;
  /** post: FILE holds "<signature>\t<body>" lines; get: FILE holds paths */
  mode: 'post' | 'get';
  file: string;
  /** post: the first line to send (from 1) and how many lines to cycle through */
  start?: number;
  count?: number;
  duration: number;
  connections: number;
  /** when given, aim at about this many requests a second (each connection pauses between requests) */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  /** lines of FILE sent (a request in flight at the end counts as sent) */
  sent: number;
  rps: number;
  p50: number;
  p99: number;
  status: Record<string, number>;
  errors: number;
}

const LUA = fileURLToPath(new URL('./load.lua', import.meta.url));

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version
    return (error as { status?: number }).status === 1;
  }
}

const WRK = hasWrk();

export function generatorName(): string {
  return WRK ? 'wrk' : 'autocannon';
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return WRK ? runWrk(options) : runAutocannon(options);
}

async function runWrk(o: LoadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${o.connections}`, `-d${o.duration}s`, '--timeout', '10s', '-s', LUA];
  args.push(o.base, '--', o.mode, o.file);
  if (o.start !== undefined) args.push(String(o.start));
  if (o.count !== undefined) args.push(String(o.count));
  if (o.rate !== undefined) args.push(`pause=${((o.connections * 1000) / o.rate).toFixed(3)}`);
  const output = execFileSync('wrk', args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = output.trim().split('\n').at(-1) ?? '{}';
  const r = JSON.parse(last) as Omit<LoadResult, 'rps'> & {
    seconds: number;
    p50_ms: number;
    p99_ms: number;
  };
  return {
    requests: r.requests,
    sent: r.sent,
    rps: r.requests / r.seconds,
    p50: r.p50_ms,
    p99: r.p99_ms,
    status: r.status,
    errors: r.errors,
  };
}

async function runAutocannon(o: LoadOptions): Promise<LoadResult> {
  const lines = readFileSync(o.file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const first = (o.start ?? 1) - 1;
  const count = o.count ?? lines.length - first;
  let next = 0;
  let sent = 0;
  const take = () => {
    const line = lines[first + (next++ % count)] as string;
    sent++;
    return line;
  };
  const status: Record<string, number> = {};
  let finish: (result: autocannon.Result) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve) => {
    finish = resolve;
  });
  const instance = autocannon(
    {
      url: o.base,
      connections: o.connections,
      duration: o.duration,
      timeout: 10,
      requests: [
        {
          setupRequest: (request: autocannon.Request) => {
            const line = take();
            if (o.mode === 'get') return { ...request, method: 'GET', path: line };
            const tab = line.indexOf('\t');
            return {
              ...request,
              method: 'POST',
              path: '/webhook',
              headers: { 'content-type': 'application/json', 'x-signature': line.slice(0, tab) },
              body: line.slice(tab + 1),
            };
          },
        },
      ],
    },
    (error, result) => (error ? finish({ ...result, errors: 1 }) : finish(result)),
  );
  instance.on('response', (_client: unknown, code: number) => {
    status[code] = (status[code] ?? 0) + 1;
  });
  const result = await done;
  const requests = Object.values(status).reduce((a, b) => a + b, 0);
  return {
    requests,
    sent,
    rps: requests / (result.duration || o.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    status,
    errors: result.errors + result.timeouts,
  };
}
