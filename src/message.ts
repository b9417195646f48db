import { type Static, Type } from 'typebox';

/**
 * The message a sender posts. This one schema validates the webhook body (through the shared
 * Ajv instance in validation.ts), types the handler, and documents the body in OpenAPI.
 */

export const E164_PATTERN = '^\\+[1-9][0-9]{1,14}$';
export const MAX_TEXT_CHARS = 4096;
export const MAX_MESSAGE_ID_CHARS = 256;

const Phone = (description: string) =>
  Type.String({ pattern: E164_PATTERN, description, examples: ['+919876543210'] });

export const Timestamp = (description: string) =>
  Type.String({
    format: 'utc-instant',
    description: `${description}: ISO-8601 UTC, YYYY-MM-DDTHH:MM:SSZ with an optional fraction of 1 to 6 digits before the Z`,
    examples: ['2025-01-15T10:00:00Z'],
  });

const Text = Type.Unsafe<string | null>({
  type: ['string', 'null'],
  format: 'unicode',
  maxLength: MAX_TEXT_CHARS,
  description: `at most ${MAX_TEXT_CHARS} characters (Unicode code points); null or absent for none`,
});

export const MessageSchema = Type.Object(
  {
    message_id: Type.String({
      format: 'unicode',
      minLength: 1,
      maxLength: MAX_MESSAGE_ID_CHARS,
      description: 'unique id chosen by the sender; a repeated id is acknowledged and ignored',
      examples: ['m1'],
    }),
    from: Phone('sender, E.164'),
    to: Phone('recipient, E.164'),
    ts: Timestamp('when the message was sent'),
    text: Type.Optional(Text),
  },
  { additionalProperties: true, description: 'unknown fields are accepted and ignored' },
);

export type Message = Static<typeof MessageSchema>;

export const StoredMessageSchema = Type.Object({
  message_id: Type.String(),
  from: Type.String(),
  to: Type.String(),
  ts: Type.String({ description: 'exactly as it was sent' }),
  text: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
});

/** A message as the stores return it. */
export type StoredMessage = Static<typeof StoredMessageSchema>;

/**
 * A stored message as JSON: the five fields in StoredMessageSchema's order, each value through
 * JSON.stringify, so the bytes are those the response schema's serializer writes (a page of
 * GET /messages, see store/json-page.ts) and an NDJSON export's line holds (export.ts).
 */
export function storedMessageJson(m: StoredMessage): string {
  const text = m.text === null ? 'null' : JSON.stringify(m.text);
  return (
    `{"message_id":${JSON.stringify(m.message_id)},"from":${JSON.stringify(m.from)},` +
    `"to":${JSON.stringify(m.to)},"ts":${JSON.stringify(m.ts)},"text":${text}}`
  );
}

const Nullable = (description: string) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], description });

/** A message with everything kept about it (GET /messages/{message_id}). */
export const MessageRecordSchema = Type.Object({
  ...StoredMessageSchema.properties,
  source: Type.Union([Type.Literal('webhook'), Type.Literal('whatsapp')], {
    description: 'webhook: POST /webhook; whatsapp: POST /webhooks/whatsapp',
  }),
  type: Nullable('the WhatsApp message type (text, image, reaction…); null for POST /webhook'),
  contact_name: Nullable("the sender's WhatsApp profile name, when the delivery named it"),
  reply_to: Nullable('the id of the message this one replies to (WhatsApp context.id)'),
  received_at: Type.String({
    description: "the service's clock when it was stored, YYYY-MM-DDTHH:MM:SSZ",
  }),
  payload: Type.Unknown({
    description:
      'what was received for it, as JSON: the POST /webhook body, or the WhatsApp messages[] item; ' +
      'null for messages stored before it was kept',
  }),
});
