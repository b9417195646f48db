import { randomUUID } from 'node:crypto';
import type { Message } from '../message.js';
import { readInput } from './input.js';
import { parseLine } from './lines.js';
import { parseCount, parseSeed } from './options.js';
import { type Source, sendWhatsApp } from './send-whatsapp.js';
import { headerSigner } from './standard.js';
import { env, Failure, parse, UsageError } from './usage.js';
import { appSecretFrom, parseBatch } from './whatsapp.js';

export const DEFAULT_URL = 'http://127.0.0.1:8000';
const TIMEOUT_MS = 30_000;

const OPTIONS = {
  url: { type: 'string' },
  secret: { type: 'string' },
  standard: { type: 'boolean' },
  whatsapp: { type: 'boolean' },
  batch: { type: 'string' },
  count: { type: 'string' },
  seed: { type: 'string' },
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

/** `URL/path` (`webhook`, `webhooks/whatsapp`) for a base URL with or without a trailing slash. */
function endpoint(base: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`not a URL: ${base}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`the URL must start with http:// or https://: ${base}`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  return url;
}

/** The message built from --id, --from, --to, --ts and --text. */
function messageFrom(values: Partial<Record<MessageOption, string>>): Message {
  if (values.from === undefined || values.to === undefined) {
    throw new UsageError('a message built from options needs --from and --to');
  }
  const message: Message = {
    message_id: values.id ?? randomUUID(),
    from: values.from,
    to: values.to,
    ts: values.ts ?? now(),
  };
  if (values.text !== undefined) message.text = values.text;
  return message;
}

/** The message from options, checked with the webhook's rules (send --whatsapp converts it). */
function checkedMessageFrom(values: Partial<Record<MessageOption, string>>): Message {
  const message = messageFrom(values);
  const line = parseLine(Buffer.from(JSON.stringify(message)));
  if (line !== null && 'invalid' in line) throw new UsageError(`invalid message: ${line.invalid}`);
  return message;
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
  if (values.whatsapp === true) return runSendWhatsApp(values, positionals[0], fromOptions);
  for (const name of ['batch', 'count', 'seed'] as const) {
    if (values[name] !== undefined) throw new UsageError(`--${name} goes with --whatsapp`);
  }
  const url = endpoint(values.url ?? env('WEBHOOK_URL') ?? DEFAULT_URL, 'webhook');
  const signatureHeaders = headerSigner(values.standard === true, values.secret);
  const body = fromOptions
    ? Buffer.from(JSON.stringify(messageFrom(values)))
    : await readInput(positionals[0]);

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

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

/**
 * `send --whatsapp [--url URL] [--secret S] [--batch N] (--count N [--seed S] | FILE |
 * --from E164 --to E164 ...)`: the messages in Meta's signed envelopes, to URL/webhooks/whatsapp.
 */
async function runSendWhatsApp(
  values: Values,
  file: string | undefined,
  fromOptions: boolean,
): Promise<number> {
  if (values.standard === true)
    throw new UsageError('--standard and --whatsapp exclude each other');
  const sources = [values.count !== undefined, file !== undefined, fromOptions];
  if (sources.filter(Boolean).length !== 1) {
    throw new UsageError('send --whatsapp needs one of --count N, FILE, or --from and --to');
  }
  if (values.seed !== undefined && values.count === undefined) {
    throw new UsageError('--seed goes with --count');
  }
  const batch = parseBatch(values.batch);
  let source: Source;
  if (values.count !== undefined) {
    source = {
      kind: 'count',
      count: parseCount(values.count),
      seed: parseSeed(values.seed ?? '1'),
    };
  } else if (file !== undefined) {
    source = { kind: 'file', path: file };
  } else {
    source = { kind: 'one', message: checkedMessageFrom(values) };
  }
  const url = endpoint(values.url ?? env('WEBHOOK_URL') ?? DEFAULT_URL, 'webhooks/whatsapp');
  return sendWhatsApp({ url, secret: appSecretFrom(values.secret), batch, source });
}
