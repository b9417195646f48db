import { Type } from 'typebox';
import { DETAIL, ValidationErrorBody } from '../http/errors.js';
import { documented, errorResponse, RETRY_AFTER } from '../http/openapi.js';

/** The OpenAPI description of /webhooks/whatsapp; examples follow Meta's webhook reference. */

/** A text message as Meta's reference shows it (made-up numbers and ids). */
export const TEXT_DELIVERY_EXAMPLE = {
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '102290129340398',
      changes: [
        {
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
            contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
            messages: [
              {
                from: '16505551234',
                id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
                timestamp: '1749416383',
                type: 'text',
                text: { body: 'Does it come in another color?' },
              },
            ],
          },
          field: 'messages',
        },
      ],
    },
  ],
};

/** A failed delivery status as Meta's reference shows it. */
export const STATUS_DELIVERY_EXAMPLE = {
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '102290129340398',
      changes: [
        {
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
            statuses: [
              {
                id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3N0EyQUJDMjFEQzZCQUMzODMA',
                status: 'failed',
                timestamp: '1750263773',
                recipient_id: '16505551234',
                errors: [
                  {
                    code: 131049,
                    title:
                      'This message was not delivered to maintain healthy ecosystem engagement.',
                  },
                ],
                pricing: { billable: false, pricing_model: 'PMP', category: 'marketing' },
              },
            ],
          },
          field: 'messages',
        },
      ],
    },
  ],
};

const Delivery = Type.Object(
  {
    object: Type.Literal('whatsapp_business_account'),
    entry: Type.Array(
      Type.Object({
        id: Type.String({ description: 'the WhatsApp Business Account id' }),
        changes: Type.Array(
          Type.Object({
            field: Type.String({
              description: 'messages is stored; any other field is answered 200 and counted',
            }),
            value: Type.Object(
              {},
              {
                additionalProperties: true,
                description:
                  'for messages: metadata, contacts, messages[] (each stored as a message) and ' +
                  'statuses[] (each stored as a delivery status)',
              },
            ),
          }),
        ),
      }),
    ),
  },
  {
    additionalProperties: true,
    description:
      'A delivery of the WhatsApp Cloud API. Every message and status needs an id and a ' +
      'timestamp in whole unix seconds (a digit string or a JSON integer); a status needs a status',
    examples: [TEXT_DELIVERY_EXAMPLE, STATUS_DELIVERY_EXAMPLE],
  },
);

export const HANDSHAKE_SCHEMA = {
  tags: ['whatsapp'],
  summary: "Meta's verification handshake",
  description:
    'Sent by Meta when the callback URL is saved in the app dashboard: answers hub.challenge, ' +
    'as text/plain, when hub.mode is subscribe and hub.verify_token is WHATSAPP_VERIFY_TOKEN.',
  querystring: Type.Object({
    'hub.mode': Type.Optional(
      Type.String({ description: 'must be subscribe', examples: ['subscribe'] }),
    ),
    'hub.verify_token': Type.Optional(
      Type.String({ description: 'compared with WHATSAPP_VERIFY_TOKEN in constant time' }),
    ),
    'hub.challenge': Type.Optional(
      Type.String({ description: 'echoed as the body', examples: ['1158201444'] }),
    ),
  }),
  response: {
    200: {
      description: 'The challenge, exactly as given',
      content: { 'text/plain': { schema: { type: 'string', examples: ['1158201444'] } } },
    },
    403: errorResponse('hub.mode is not subscribe, or the token is wrong or missing', [
      DETAIL.verificationFailed,
    ]),
    503: errorResponse('No WHATSAPP_VERIFY_TOKEN is configured', [DETAIL.verifyTokenNotConfigured]),
  },
};

export const POST_SCHEMA = {
  tags: ['whatsapp'],
  summary: 'Receive a signed WhatsApp Cloud API delivery',
  description:
    'X-Hub-Signature-256 must be sha256= and the hex HMAC-SHA256 of the raw body keyed with ' +
    'WHATSAPP_APP_SECRET (or WHATSAPP_APP_SECRET_PREVIOUS). The checks run in this order: size ' +
    '(413), content type (415), app secret configured (503), signature (401), delivery (422). ' +
    'The whole delivery is stored in one transaction, and 200 sent once it is committed; items ' +
    'already stored change nothing, so a redelivery is answered 200 and stores nothing.',
  headers: Type.Object({
    'x-hub-signature-256': Type.Optional(
      Type.String({ description: 'sha256=<hex HMAC-SHA256 of the raw body>' }),
    ),
  }),
  body: Delivery,
  response: {
    200: documented(
      Type.Object({ status: Type.Literal('ok') }),
      'Stored and committed, or already stored',
      { examples: [{ status: 'ok' }] },
    ),
    401: errorResponse('X-Hub-Signature-256 is missing or does not sign the body', [
      DETAIL.invalidSignature,
    ]),
    413: errorResponse('The body is larger than WHATSAPP_MAX_BODY_BYTES (3 MiB by default)', [
      DETAIL.bodyTooLarge,
    ]),
    415: errorResponse('Content-Type is not application/json, or the body is compressed', [
      DETAIL.notJson,
      DETAIL.compressed,
    ]),
    422: documented(
      ValidationErrorBody,
      'Not a delivery, or an item that cannot be stored: nothing of the delivery is stored',
      {
        examples: [
          {
            detail: [
              {
                loc: ['body', 'entry', 0, 'changes', 0, 'value', 'messages', 3, 'timestamp'],
                msg: 'timestamp must be whole unix seconds, as a digit string or a JSON integer',
                type: 'timestamp_invalid',
              },
            ],
          },
        ],
      },
    ),
    503: errorResponse(
      'No WHATSAPP_APP_SECRET is configured, or the database cannot take the write: retry later',
      [DETAIL.appSecretNotConfigured, DETAIL.unavailable],
      RETRY_AFTER,
    ),
  },
};
