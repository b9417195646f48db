import type { Message } from '../message.js';
import { secondsOf } from '../store/records.js';
import type { DeliveryOutcome, Store } from '../store/store.js';
import { parseDelivery, WHATSAPP_OBJECT } from '../whatsapp/envelope.js';
import { generator, random } from './generate.js';
import type { Progress } from './progress.js';
import { ACCOUNT_ID, envelope, PHONE_NUMBER_ID, unixSeconds } from './whatsapp.js';

/**
 * `seed --whatsapp --count N` and `seed --statuses N`: WhatsApp deliveries stored straight
 * into the database, through the same parsing as POST /webhooks/whatsapp, so that what is
 * stored is what a delivery would store (type, contact name, payload; delivery statuses and
 * their counts).
 */

/** Items per stored delivery, and deliveries issued together (one group commit on SQLite). */
const DELIVERY = 1000;
const IN_FLIGHT = 10;

export interface Counts {
  created: number;
  duplicates: number;
  invalid: number;
}

/** Error codes and titles of failed statuses, as Meta sends them. */
const FAILURES: [number, string][] = [
  [131049, 'This message was not delivered to maintain healthy ecosystem engagement.'],
  [131026, 'Message undeliverable'],
  [131047, 'Re-engagement message'],
  [130472, "User's number is part of an experiment"],
  [131000, 'Something went wrong'],
];
/** The business number the statuses' messages were sent from. */
const BUSINESS = { display_phone_number: '14155550100', phone_number_id: PHONE_NUMBER_ID };
const CATEGORIES = ['utility', 'utility', 'marketing', 'marketing', 'service', 'authentication'];

/** A status item as Meta sends it in `value.statuses[]`. */
type StatusItem = Record<string, unknown>;

/** The id of the n-th message (from 1) the business sent: out<S>-00000001. */
export function sentMessageId(seed: string, n: number): string {
  return `out${seed}-${String(n).padStart(8, '0')}`;
}

/**
 * The statuses of one message the business sent at `message.ts` to `message.from`: `sent`,
 * then mostly `delivered` (92%) and of those mostly `read` (70%), or `failed` (5%) with one of
 * Meta's error codes; `read` carries no pricing, as Meta sends it.
 */
function statusesOf(id: string, message: Message, next: () => number): StatusItem[] {
  const at = Number(unixSeconds(message.ts));
  const recipient = message.from.slice(1);
  const pricing = {
    billable: true,
    pricing_model: 'PMP',
    type: 'regular',
    category: CATEGORIES[Math.floor(next() * CATEGORIES.length)],
  };
  const item = (status: string, seconds: number, extra: StatusItem = {}): StatusItem => ({
    id,
    status,
    timestamp: String(seconds),
    recipient_id: recipient,
    ...extra,
  });
  const items = [item('sent', at, { pricing })];
  const fate = next();
  if (fate < 0.05) {
    const [code, title] = FAILURES[Math.floor(next() * FAILURES.length)] as [number, string];
    const errors = [{ code, title, message: title, error_data: { details: title } }];
    items.push(item('failed', at + 1, { errors, pricing: { ...pricing, billable: false } }));
  } else if (fate < 0.97) {
    const delivered = at + 1 + Math.floor(next() * 30);
    items.push(item('delivered', delivered, { pricing }));
    if (next() < 0.7) items.push(item('read', delivered + 1 + Math.floor(next() * 7200)));
  }
  return items;
}

/** Stores one envelope as the route would; adds its outcome to `counts`. */
async function store(
  target: Store,
  body: unknown,
  counts: Counts,
  kind: 'messages' | 'statuses',
): Promise<void> {
  const parsed = parseDelivery(body, secondsOf(new Date()));
  if (!parsed.ok) throw new Error(`a generated delivery is invalid: ${parsed.issues[0]?.msg}`);
  const outcome: DeliveryOutcome = await target.storeDelivery(parsed.value.delivery);
  counts.created += outcome[kind].created;
  counts.duplicates += outcome[kind].duplicate;
}

/**
 * Issues deliveries made by `make(first, size)` (items numbered from 1), IN_FLIGHT at a time,
 * until `count` items are stored.
 */
async function deliver(
  count: number,
  make: (first: number, size: number) => Promise<void>,
  counts: Counts,
  bar: Progress,
): Promise<void> {
  for (let first = 1; first <= count; ) {
    const step: Promise<void>[] = [];
    for (let d = 0; d < IN_FLIGHT && first <= count; d++) {
      const size = Math.min(DELIVERY, count - first + 1);
      step.push(make(first, size));
      first += size;
    }
    await Promise.all(step);
    const done = counts.created + counts.duplicates;
    bar.update(first - 1, count, done);
  }
}

/** The seed's first `count` generated messages, stored as WhatsApp deliveries would store them. */
export async function seedWhatsAppMessages(
  target: Store,
  count: number,
  seed: string,
  counts: Counts,
  bar: Progress,
): Promise<void> {
  const next = generator(seed);
  await deliver(
    count,
    (_, size) => store(target, envelope(Array.from({ length: size }, next)), counts, 'messages'),
    counts,
    bar,
  );
}

/** The delivery statuses of `count` messages the business sent, to the seed's senders. */
export async function seedStatuses(
  target: Store,
  count: number,
  seed: string,
  counts: Counts,
  bar: Progress,
): Promise<void> {
  const customers = generator(`statuses-${seed}`);
  const next = random(`statuses-${seed}`);
  await deliver(
    count,
    (first, size) => {
      const statuses: StatusItem[] = [];
      for (let n = first; n < first + size; n++) {
        statuses.push(...statusesOf(sentMessageId(seed, n), customers(), next));
      }
      const value = { messaging_product: 'whatsapp', metadata: BUSINESS, statuses };
      const body = {
        object: WHATSAPP_OBJECT,
        entry: [{ id: ACCOUNT_ID, changes: [{ value, field: 'messages' }] }],
      };
      return store(target, body, counts, 'statuses');
    },
    counts,
    bar,
  );
}
