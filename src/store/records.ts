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
