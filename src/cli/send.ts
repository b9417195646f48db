import { randomUUID } from 'node:crypto';
import { readInput } from './input.js';
import { headerSigner } from './standard.js';
import { env, Failure, parse, UsageError } from './usage.js';

export const DEFAULT_URL = 'http://127.0.0.1:8000';
const TIMEOUT_MS = 30_000;

const OPTIONS = {
  url: { type: 'string' },
  secret: { type: 'string' },
  standard: { type: 'boolean' },
  id: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  ts: { type: 'string' },
  text: { type: 'string' },
} as const;

type MessageOption = 'id' | 'from' | 'to' | 'ts' | 'text';
const MESSAGE_OPTIONS: MessageOption[] = ['id', 'from', 'to', 'ts', 'text'];

/** The current time as YYYY-MM-DDTHH:MM:SSZ. */
export function now(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}

/** `URL/webhook` for a base URL given with or without a trailing slash. */
function webhookUrl(base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`not a URL: ${base}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`the URL must start with http:// or https://: ${base}`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/webhook`;
  return url;
}

/** The message built from --id, --from, --to, --ts and --text, as JSON bytes. */
function messageFrom(values: Partial<Record<MessageOption, string>>): Buffer {
  if (values.from === undefined || values.to === undefined) {
    throw new UsageError('a message built from options needs --from and --to');
  }
  const message: Record<string, string> = {
    message_id: values.id ?? randomUUID(),
    from: values.from,
    to: values.to,
    ts: values.ts ?? now(),
  };
  if (values.text !== undefined) message.text = values.text;
  return Buffer.from(JSON.stringify(message));
}

/** Why a fetch failed, in one line: the network error's own message when there is one. */
function reason(error: unknown): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message !== '') return cause.message;
  return (error as Error).message;
}

/**
 * `send [--standard] [--url URL] [--secret S] [FILE | --id ID --from E164 --to E164 --ts TS
 * --text T]`: signs the exact bytes (X-Signature, or with --standard the three Standard Webhooks
 * headers), POSTs them to URL/webhook, prints the status and the answer.
 * 0 for a 2xx answer, 1 for any other or when the service cannot be reached.
 */
export async function runSend(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, 1);
  const fromOptions = MESSAGE_OPTIONS.some((name) => values[name] !== undefined);
  if (fromOptions && positionals.length > 0) {
    throw new UsageError('give either FILE or the message options (--from, --to...), not both');
  }
  const url = webhookUrl(values.url ?? env('WEBHOOK_URL') ?? DEFAULT_URL);
  const signatureHeaders = headerSigner(values.standard === true, values.secret);
  const body = fromOptions ? messageFrom(values) : await readInput(positionals[0]);

  let response: Response;
  let answer: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...signatureHeaders(body) },
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    answer = await response.text();
  } catch (error) {
    throw new Failure(`cannot reach ${url.href}: ${reason(error)}`);
  }
  const status =
    response.statusText === '' ? `${response.status}` : `${response.status} ${response.statusText}`;
  process.stdout.write(`${status}\n`);
  if (answer !== '') process.stdout.write(answer.endsWith('\n') ? answer : `${answer}\n`);
  return response.ok ? 0 : 1;
}
