import type { Message } from '../message.js';
import { generator } from './generate.js';
import { openLines } from './input.js';
import { parseLine } from './lines.js';
import { Failure } from './usage.js';
import { deliveryBody, SIGNATURE_HEADER, signatureValue } from './whatsapp.js';

/**
 * `send --whatsapp`: messages (generated, read from a JSON Lines file, or one built from
 * options) sent to URL/webhooks/whatsapp in Meta's envelopes of `batch` items each, one
 * delivery at a time, each signed with X-Hub-Signature-256.
 */

const TIMEOUT_MS = 30_000;
const SHOWN = 10;

export type Source =
  | { kind: 'count'; count: number; seed: string }
  | { kind: 'file'; path: string }
  | { kind: 'one'; message: Message };

export interface Plan {
  url: URL;
  secret: string;
  batch: number;
  source: Source;
}

interface Tally {
  deliveries: number;
  messages: number;
  refused: number;
  invalid: number;
  shown: string[];
}

/** The messages of `source` in batches of `size`; invalid lines are counted and described. */
async function* batches(source: Source, size: number, tally: Tally): AsyncGenerator<Message[]> {
  if (source.kind === 'one') {
    yield [source.message];
    return;
  }
  if (source.kind === 'count') {
    const next = generator(source.seed);
    for (let left = source.count; left > 0; left -= size) {
      yield Array.from({ length: Math.min(size, left) }, next);
    }
    return;
  }
  const lines = await openLines(source.path);
  let batch: Message[] = [];
  let number = 0;
  for await (const chunk of lines.batches) {
    for (const line of chunk) {
      number += 1;
      const parsed = parseLine(line);
      if (parsed === null) continue;
      if ('invalid' in parsed) {
        tally.invalid += 1;
        if (tally.shown.length < SHOWN) tally.shown.push(`line ${number}: ${parsed.invalid}`);
        continue;
      }
      batch.push(parsed.message);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

function reason(error: unknown): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message !== '') return cause.message;
  return (error as Error).message;
}

/** POSTs one delivery; the status line and answer when it is not a 2xx. */
async function deliver(plan: Plan, messages: Message[]): Promise<string | null> {
  const body = deliveryBody(messages);
  let response: Response;
  let answer: string;
  try {
    response = await fetch(plan.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signatureValue(plan.secret, body),
      },
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    answer = await response.text();
  } catch (error) {
    throw new Failure(`cannot reach ${plan.url.href}: ${reason(error)}`);
  }
  if (response.ok) return null;
  const status = `${response.status} ${response.statusText}`.trim();
  return answer === '' ? status : `${status} ${answer.trimEnd()}`;
}

/**
 * Sends every batch and prints one summary line; a refused delivery is printed with its status
 * and answer (the first ten), an invalid line with its reason on standard error.
 * 0 when every delivery got a 2xx and no line was invalid.
 */
export async function sendWhatsApp(plan: Plan): Promise<number> {
  const tally: Tally = { deliveries: 0, messages: 0, refused: 0, invalid: 0, shown: [] };
  const refusals: string[] = [];
  const started = performance.now();
  try {
    for await (const messages of batches(plan.source, plan.batch, tally)) {
      const refused = await deliver(plan, messages);
      tally.deliveries += 1;
      tally.messages += messages.length;
      if (refused !== null) {
        tally.refused += 1;
        if (refusals.length < SHOWN) {
          const first = tally.messages - messages.length + 1;
          refusals.push(
            `delivery ${tally.deliveries} (messages ${first}-${tally.messages}): ${refused}`,
          );
        }
      }
    }
  } finally {
    for (const line of tally.shown) process.stderr.write(`${line}\n`);
    if (tally.invalid > tally.shown.length) {
      process.stderr.write(`... and ${tally.invalid - tally.shown.length} more invalid lines\n`);
    }
  }
  for (const line of refusals) process.stdout.write(`${line}\n`);
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(tally.messages / seconds) : 0;
  process.stdout.write(
    `deliveries ${tally.deliveries}, messages ${tally.messages}, refused ${tally.refused}, invalid ${tally.invalid}, ${seconds.toFixed(2)} s, ${rate} messages/s\n`,
  );
  return tally.refused === 0 && tally.invalid === 0 ? 0 : 1;
}
