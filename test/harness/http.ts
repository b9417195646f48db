/**
 * One HTTP request and exactly what became of it, as a webhook sender sees it: a complete answer,
 * no answer at all (refused, reset before any byte of a response), or a broken one (a response
 * that started and did not finish).
 */
import { type Agent, request } from 'node:http';

export type Outcome =
  | { kind: 'answered'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'unanswered'; code: string }
  | { kind: 'broken'; status: number; code: string };

export interface Sent {
  /** performance.now() before the request was written */
  start: number;
  /** performance.now() when the outcome was known */
  end: number;
  outcome: Outcome;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: Agent | false;
  /** destroy the request after this long without an outcome; default 30 s */
  timeoutMs?: number;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : String((error as Error).message ?? error);
}

/** Sends one request to `url`; never rejects. */
export function send(url: string, options: RequestOptions = {}): Promise<Sent> {
  const start = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve({ start, end: performance.now(), outcome });
    };
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) {
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const req = request(url, {
      method: options.method ?? 'GET',
      headers,
      agent: options.agent,
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error('ETIMEDOUT')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const status = res.statusCode ?? 0;
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (!res.complete) return settle({ kind: 'broken', status, code: 'incomplete' });
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          flat[name] = Array.isArray(value) ? value.join(', ') : String(value);
        }
        settle({
          kind: 'answered',
          status,
          headers: flat,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', (error) => settle({ kind: 'broken', status, code: codeOf(error) }));
      res.on('aborted', () => settle({ kind: 'broken', status, code: 'aborted' }));
    });
    req.on('error', (error) => settle({ kind: 'unanswered', code: codeOf(error) }));
    req.end(options.body);
  });
}
