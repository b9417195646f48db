/**
 * WhatsApp scenarios for scripts/bench.ts: signed deliveries to POST /webhooks/whatsapp, built
 * as `send --whatsapp` builds them (Meta's envelope, non-ASCII escaped), all generated before
 * the clock starts. A Node client sends them: a delivery of 100 messages is one request of
 * about 40 KB, so a few hundred requests a second is all it takes.
 */
import { generator } from '../../src/cli/generate.js';
import { deliveryBody, signatureValue } from '../../src/cli/whatsapp.js';
import type { Message } from '../../src/message.js';

export const APP_SECRET = 'bench-app-secret';

export interface WhatsAppRow {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  latencyAt?: string;
  ratio: string;
  rssMb: number;
  target: string;
  met: string;
}

interface Delivery {
  body: Buffer;
  signature: string;
  messages: number;
}

interface Outcome {
  deliveries: number;
  /** messages in deliveries answered 200 */
  messages: number;
  seconds: number;
  latencies: number[];
  status: Record<string, number>;
}

/** `count` deliveries of `size` messages each, with wamid-like ids unique to `seed`. */
export function deliveries(seed: string, count: number, size: number): Delivery[] {
  const next = generator(seed);
  const made: Delivery[] = [];
  for (let d = 0; d < count; d++) {
    const messages: Message[] = [];
    for (let i = 0; i < size; i++) {
      const message = next();
      message.message_id = `wamid.${Buffer.from(message.message_id).toString('base64')}`;
      messages.push(message);
    }
    const body = deliveryBody(messages);
    made.push({ body, signature: signatureValue(APP_SECRET, body), messages: size });
  }
  return made;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * Sends `list` with `concurrency` requests in flight until all are sent or `seconds` have
 * passed; the rate counts only messages whose delivery was answered 200.
 */
export async function drive(
  base: string,
  list: Delivery[],
  concurrency: number,
  seconds: number,
): Promise<Outcome> {
  const url = `${base}/webhooks/whatsapp`;
  const outcome: Outcome = { deliveries: 0, messages: 0, seconds: 0, latencies: [], status: {} };
  const started = performance.now();
  const until = started + seconds * 1000;
  let next = 0;
  const worker = async () => {
    while (next < list.length && performance.now() < until) {
      const delivery = list[next++] as Delivery;
      const sent = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        body: delivery.body,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': delivery.signature,
        },
      });
      await response.arrayBuffer();
      outcome.latencies.push(performance.now() - sent);
      outcome.deliveries += 1;
      outcome.status[response.status] = (outcome.status[response.status] ?? 0) + 1;
      if (response.status === 200) outcome.messages += delivery.messages;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  outcome.seconds = (performance.now() - started) / 1000;
  outcome.latencies.sort((a, b) => a - b);
  return outcome;
}

async function totalMessages(base: string): Promise<number> {
  const stats = (await (await fetch(`${base}/stats`)).json()) as { total_messages: number };
  return stats.total_messages;
}

/**
 * The two WhatsApp scenarios on a running service: deliveries of 100 messages, `concurrency`
 * in flight (messages/s, target 30,000 on SQLite), then deliveries of 1000 messages one at a
 * time (p50/p99 latency, target p99 < 250 ms). Each checks that every acknowledged message is
 * stored.
 */
export async function benchWhatsApp(
  name: string,
  base: string,
  options: { duration: number; concurrency: number; log: (line: string) => void },
): Promise<WhatsAppRow[]> {
  const rows: WhatsAppRow[] = [];
  const probe = await fetch(`${base}/webhooks/whatsapp`, { method: 'POST' });
  if (probe.status === 404) {
    options.log(`${name}: no /webhooks/whatsapp in this build: the WhatsApp scenarios are skipped`);
    return rows;
  }
  const run = async (
    scenario: string,
    list: Delivery[],
    concurrency: number,
    seconds: number,
  ): Promise<Outcome> => {
    const before = await totalMessages(base);
    const outcome = await drive(base, list, concurrency, seconds);
    const stored = (await totalMessages(base)) - before;
    const ok = outcome.status['200'] ?? 0;
    options.log(
      `${name} ${scenario}: ${outcome.deliveries} deliveries (${ok} answered 200), ${outcome.messages} messages acknowledged, ${stored} stored, ${outcome.seconds.toFixed(1)} s`,
    );
    if (ok !== outcome.deliveries) {
      throw new Error(`${scenario}: answers ${JSON.stringify(outcome.status)}, not all 200`);
    }
    if (stored < outcome.messages) throw new Error(`${scenario}: fewer stored than acknowledged`);
    return outcome;
  };

  const hundreds = deliveries(`wa100-${name}`, Math.max(200, 400 * options.duration), 100);
  const small = await run(
    '100-message deliveries',
    hundreds,
    options.concurrency,
    options.duration,
  );
  const rate = small.messages / small.seconds;
  rows.push({
    scenario: `WhatsApp 100-msg deliveries, ${options.concurrency} in flight (msg/s)`,
    rps: rate,
    p50: percentile(small.latencies, 50),
    p99: percentile(small.latencies, 99),
    ratio: '',
    rssMb: 0,
    target: name === 'sqlite' ? '≥30000 msg/s' : '(report)',
    met: name === 'sqlite' ? (rate >= 30_000 ? 'yes' : 'no') : '',
  });
  hundreds.length = 0;

  const thousands = deliveries(`wa1000-${name}`, 100, 1000);
  const large = await run('1000-message deliveries', thousands, 1, Math.max(60, options.duration));
  const p99 = percentile(large.latencies, 99);
  rows.push({
    scenario: `WhatsApp 1000-msg delivery (${large.deliveries}, one at a time)`,
    rps: large.messages / large.seconds,
    p50: percentile(large.latencies, 50),
    p99,
    latencyAt: '1 in flight',
    ratio: '',
    rssMb: 0,
    target: 'p99<250',
    met: p99 < 250 ? 'yes' : 'no',
  });
  return rows;
}
