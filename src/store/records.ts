import type { StoredMessage } from '../message.js';

/** Where a message came from. */
export type Source = 'webhook' | 'whatsapp';

/** What a store keeps about a message besides its five fields (GET /messages/{message_id}). */
export interface MessageDetails {
  source: Source;
  /** the WhatsApp message type; null for POST /webhook */
  type: string | null;
  contact_name: string | null;
  /** the id of the message this one replies to */
  reply_to: string | null;
  /** the service's clock when it was stored, YYYY-MM-DDTHH:MM:SSZ */
  received_at: string;
  /** the JSON text as received: the POST /webhook body, or the WhatsApp item */
  payload: string | null;
}

export interface MessageRecord extends StoredMessage, MessageDetails {}

/** `date` to the second, as received_at is kept: YYYY-MM-DDTHH:MM:SSZ. */
export function secondsOf(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Every detail, with the defaults of a POST /webhook message received now. */
export function detailsOf(details: Partial<MessageDetails> = {}): MessageDetails {
  return {
    source: details.source ?? 'webhook',
    type: details.type ?? null,
    contact_name: details.contact_name ?? null,
    reply_to: details.reply_to ?? null,
    received_at: details.received_at ?? secondsOf(new Date()),
    payload: details.payload ?? null,
  };
}

/** One error of a failed delivery status. */
export interface StatusError {
  /** Meta's error code, as the JSON integer it sends; null when it sent none */
  code: number | null;
  title: string | null;
}

/** A delivery status of a message the business sent, as GET /statuses shows it. */
export interface StatusRecord {
  message_id: string;
  status: string;
  ts: string;
  /** `+` and the recipient's digits, or their business-scoped user id */
  recipient: string;
  errors: StatusError[];
  category: string | null;
}

export interface NewStatus extends StatusRecord {
  received_at: string;
}

/** Everything one WhatsApp delivery brings, stored in one transaction. */
export interface Delivery {
  messages: { message: StoredMessage; details: MessageDetails }[];
  statuses: NewStatus[];
}

/** How many items of a delivery were new and how many already stored. */
export interface DeliveryOutcome {
  messages: { created: number; duplicate: number };
  statuses: { created: number; duplicate: number };
}

/** The filters of GET /statuses, parsed at the HTTP edge. */
export interface StatusFilter {
  message_id?: string;
  status?: string;
  /** keeps statuses whose ts is at or after this instant (microseconds) */
  since?: bigint;
}

/** Where a page of statuses starts: after this (instant of ts, message_id, status). */
export interface StatusPosition {
  instant: bigint;
  messageId: string;
  status: string;
}

export interface StatusPageRequest {
  limit: number;
  offset: number;
  after?: StatusPosition;
}

export interface StatusPage {
  data: StatusRecord[];
  /** every status matching the filter, not just this page */
  total: number;
  more: boolean;
}

/** How many of the commonest failure codes GET /stats/statuses lists. */
export const TOP_FAILURES = 10;

export interface StatusStats {
  /** statuses stored per status word: how many messages have reached each */
  by_status: Record<string, number>;
  /** the TOP_FAILURES commonest error codes of failed statuses, by count desc, then code asc */
  failures: { code: number; title: string | null; count: number }[];
}

/** Messages per UTC day of ts. */
export interface DayCount {
  /** YYYY-MM-DD */
  day: string;
  count: number;
}

/** The day number (days since 1970-01-01) as YYYY-MM-DD. */
export function dayName(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** The statuses GET /stats/statuses always names, 0 when none is stored. */
export const USUAL_STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
