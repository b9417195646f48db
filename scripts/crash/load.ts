/**
 * Ingest load as webhook senders make it: concurrent keep-alive clients posting unique signed
 * messages, resending some (a duplicate, or a retry of one that got no 200), and sending some
 * that must be refused (a bad signature, an invalid body). A ledger records what was sent and
 * what was acknowledged, so that the store can be checked against it afterwards.
 */
import { Agent } from 'node:http';
import { type Outcome, send } from '../../test/harness/http.js';
import { type Message, signed, uniqueMessage } from '../../test/harness/messages.js';

export interface Ledger {
  /** every valid message sent, by id (a resend repeats the same body) */
  sent: Map<string, Message>;
  /** ids of valid messages, in the order first sent, to pick resends from */
  order: string[];
  /** ids answered 200 at least once */
  acknowledged: Set<string>;
  /** ids only ever sent in deliveries that must be refused */
  refusedIds: Set<string>;
  figures: Figures;
  /** answers that break the contract (a refused delivery answered 200, a valid one 401...) */
  violations: string[];
}

export interface Figures {
  requests: number;
  ok: number;
  /** non-200 answers, by status */
  statuses: Record<string, number>;
  /** requests that got no answer, by error code */
  connectionErrors: Record<string, number>;
  /** answers that started and did not finish */
  broken: number;
}

export function newLedger(): Ledger {
  return {
    sent: new Map(),
    order: [],
    acknowledged: new Set(),
    refusedIds: new Set(),
    figures: { requests: 0, ok: 0, statuses: {}, connectionErrors: {}, broken: 0 },
    violations: [],
  };
}

export interface LoadOptions {
  base: string;
  secret: string;
  clients: number;
  ledger: Ledger;
  /** checked before each request: the clients stop once it returns true */
  stopped: () => boolean;
  /** a prefix that makes this run's ids unique */
  prefix: string;
}

type Delivery =
  | { kind: 'valid'; message: Message }
  | { kind: 'bad signature' | 'invalid body'; id: string };

function nextDelivery(ledger: Ledger, prefix: string): Delivery {
  const roll = Math.random();
  if (roll < 0.1 && ledger.order.length > 0) {
    const id = ledger.order[Math.floor(Math.random() * ledger.order.length)] as string;
    return { kind: 'valid', message: ledger.sent.get(id) as Message };
  }
  if (roll < 0.15)
    return { kind: 'bad signature', id: `${prefix}-bad-${Math.random().toString(36).slice(2)}` };
  if (roll < 0.2)
    return { kind: 'invalid body', id: `${prefix}-inv-${Math.random().toString(36).slice(2)}` };
  const message = uniqueMessage(prefix);
  ledger.sent.set(message.message_id, message);
  ledger.order.push(message.message_id);
  return { kind: 'valid', message };
}

function request(
  delivery: Delivery,
  secret: string,
): { headers: Record<string, string>; body: string } {
  if (delivery.kind === 'valid') return signed(secret, JSON.stringify(delivery.message));
  const message = { ...uniqueMessage('x'), message_id: delivery.id };
  if (delivery.kind === 'invalid body') {
    return signed(secret, JSON.stringify({ ...message, from: '0044 not a number' }));
  }
  const { body, headers } = signed(`${secret}-wrong`, JSON.stringify(message));
  return { body, headers };
}

function record(ledger: Ledger, delivery: Delivery, outcome: Outcome): void {
  const { figures } = ledger;
  figures.requests++;
  if (outcome.kind === 'unanswered') {
    figures.connectionErrors[outcome.code] = (figures.connectionErrors[outcome.code] ?? 0) + 1;
    return;
  }
  if (outcome.kind === 'broken') {
    figures.broken++;
    return;
  }
  const { status } = outcome;
  if (status === 200) figures.ok++;
  else figures.statuses[status] = (figures.statuses[status] ?? 0) + 1;
  const id = delivery.kind === 'valid' ? delivery.message.message_id : delivery.id;
  const expected =
    delivery.kind === 'valid' ? [200, 503] : delivery.kind === 'bad signature' ? [401] : [422];
  if (!expected.includes(status)) {
    ledger.violations.push(
      `${delivery.kind} ${JSON.stringify(id)} answered ${status} ${outcome.body}`,
    );
  }
  if (status === 200 && delivery.kind === 'valid') ledger.acknowledged.add(id);
}

/** Runs `clients` senders until `stopped()`; resolves once every one has stopped. */
export async function runLoad(options: LoadOptions): Promise<void> {
  const { ledger } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const client = async () => {
    while (!options.stopped()) {
      const delivery = nextDelivery(ledger, options.prefix);
      if (delivery.kind !== 'valid') ledger.refusedIds.add(delivery.id);
      const { headers, body } = request(delivery, options.secret);
      const { outcome } = await send(`${options.base}/webhook`, {
        method: 'POST',
        headers,
        body,
        agent,
        timeoutMs: 15_000,
      });
      record(ledger, delivery, outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, client));
  } finally {
    agent.destroy();
  }
}
