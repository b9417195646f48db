import type { FastifyInstance } from 'fastify';
import { hubSignature } from '../../src/whatsapp/signature.js';

/** The app secret the WhatsApp tests configure. */
export const APP_SECRET = 'meta-app-secret-for-tests';

/** POSTs raw bytes to /webhooks/whatsapp, signed with `secret` unless headers say otherwise. */
export function postWhatsapp(
  app: FastifyInstance,
  body: string | Buffer | object,
  options: { secret?: string; headers?: Record<string, string> } = {},
) {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return app.inject({
    method: 'POST',
    url: '/webhooks/whatsapp',
    payload,
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': hubSignature(options.secret ?? APP_SECRET, payload),
      ...options.headers,
    },
  });
}

/** A delivery of `messages` and `statuses` items in one `messages` change. */
export function envelope(
  messages: object[],
  statuses: object[] = [],
  extra: Record<string, unknown> = {},
): object {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '311456789012345',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15557850142', phone_number_id: '1087654321' },
              ...(messages.length > 0 ? { messages } : {}),
              ...(statuses.length > 0 ? { statuses } : {}),
              ...extra,
            },
          },
        ],
      },
    ],
  };
}

/** A text message item. */
export function textItem(id: string, body = `text of ${id}`, timestamp = '1764669660'): object {
  return { from: '447700900123', id, timestamp, type: 'text', text: { body } };
}
