import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DETAIL, HttpError, ValidationErrorBody } from '../http/errors.js';
import { isJsonContentType, rejectOtherMethods } from '../http/guards.js';
import { parseJson } from '../http/json-body.js';
import type { WebhookResult } from '../http/metrics.js';
import { REFUSAL_RESULTS } from '../http/metrics.js';
import { documented, errorResponse, RETRY_AFTER } from '../http/openapi.js';
import { MessageSchema } from '../message.js';
import { verify } from '../signature.js';
import {
  type SignatureScheme,
  type StandardFailure,
  type StandardWebhooksOptions,
  standardVerifier,
} from '../standard-webhooks.js';
import { secondsOf } from '../store/records.js';
import type { Store } from '../store/store.js';

/**
 * POST /webhook, from raw bytes to stored row:
 *
 * 1. the body is read as raw bytes whatever its content type; more than maxBodyBytes → 413
 * 2. content type not application/json, or a Content-Encoding (gzip...) → 415
 * 3. no secret configured → 503
 * 4. X-Signature is not the HMAC-SHA256 of those exact bytes → 401; or, when Standard Webhooks
 *    is configured and the request has a webhook-signature header, that scheme instead (steps 3
 *    and 4 then concern STANDARD_WEBHOOKS_SECRET, and X-Signature is ignored) → 401 naming why
 * 5. not UTF-8, not JSON, or not a valid message (MessageSchema) → 422
 * 6. stored unless its message_id already is → 200 {"status": "ok"} once committed
 *    (or 503 when the database cannot take the write)
 *
 * Steps 2-5 run in preValidation, before Fastify validates the parsed body against the schema.
 */

export interface WebhookOptions {
  store: Store;
  /** null when none is configured */
  secret: string | null;
  /** accepted too while senders move to `secret` (WEBHOOK_SECRET_PREVIOUS) */
  previousSecret?: string | null;
  /** STANDARD_WEBHOOKS_*: null or absent when not configured (webhook-signature is then ignored) */
  standardWebhooks?: StandardWebhooksOptions | null;
  maxBodyBytes: number;
  /** the service's clock, for received_at */
  clock?: () => Date;
}

const Ok = Type.Object({ status: Type.Literal('ok') });

/**
 * The 401 detail of each Standard Webhooks failure: what the sender has to fix. The first is also
 * X-Signature's, so these are every detail a 401 carries.
 */
const STANDARD_DETAIL: Record<StandardFailure, string> = {
  no_match: DETAIL.invalidSignature,
  missing_id: DETAIL.missingWebhookId,
  missing_timestamp: DETAIL.missingWebhookTimestamp,
  missing_signature: DETAIL.missingWebhookSignature,
  malformed_timestamp: DETAIL.invalidWebhookTimestamp,
  outside_tolerance: DETAIL.timestampOutsideTolerance,
};

function headerValue(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const webhookRoutes: FastifyPluginAsyncTypebox<WebhookOptions> = async (
  app,
  { store, secret, previousSecret, standardWebhooks, maxBodyBytes, clock = () => new Date() },
) => {
  /** the raw body of each request whose signature verified, kept as the message's payload */
  const rawBodies = new WeakMap<FastifyRequest, string>();
  const secrets = [secret, previousSecret].filter((key): key is string => typeof key === 'string');
  const standard = standardWebhooks ? standardVerifier(standardWebhooks) : null;
  /** the scheme whose signature verified each request that got that far */
  const verifiedBy = new WeakMap<FastifyRequest, SignatureScheme>();
  // Every content type is read as raw bytes, so the size check comes first and the signature is
  // computed over exactly what was sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: maxBodyBytes },
    (_request, body, done) => done(null, body),
  );

  /**
   * Fastify answers a Content-Type that is no media type at all ("", ";", "json") with its own
   * 415 before reading the body, which would put the content type check before the size check.
   * Any content type that is not JSON is replaced by a plain media type here, so that the body is
   * read (and measured) first; checkDelivery then answers 415 for it like for any other.
   */
  async function readBodyFirst(request: FastifyRequest): Promise<void> {
    const type = request.headers['content-type'];
    if (type !== undefined && !isJsonContentType(type)) {
      request.headers['content-type'] = 'application/octet-stream';
    }
  }

  async function checkDelivery(request: FastifyRequest): Promise<void> {
    if (!isJsonContentType(request.headers['content-type'])) {
      throw new HttpError(415, DETAIL.notJson);
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new HttpError(415, DETAIL.compressed);
    }
    const { headers } = request;
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (standard !== null && headers['webhook-signature'] !== undefined) {
      const failure = standard.verify(body, {
        id: headerValue(headers['webhook-id']),
        timestamp: headerValue(headers['webhook-timestamp']),
        signature: headerValue(headers['webhook-signature']),
      });
      if (failure !== null) throw new HttpError(401, STANDARD_DETAIL[failure]);
      verifiedBy.set(request, 'standard-webhooks');
    } else {
      if (secret === null) throw new HttpError(503, DETAIL.secretNotConfigured);
      if (!verify(secrets, body, headerValue(headers['x-signature']))) {
        throw new HttpError(401, DETAIL.invalidSignature);
      }
      verifiedBy.set(request, 'x-signature');
    }
    request.body = parseJson(body);
    rawBodies.set(request, body.toString('utf8'));
  }

  /** The message_id of a parsed body, for the log line; never read from unverified bytes. */
  function messageIdOf(body: unknown): string | undefined {
    if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
    const id = (body as { message_id?: unknown }).message_id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  }

  app.post('/webhook', {
    schema: {
      tags: ['webhook'],
      summary: 'Receive one signed message',
      description:
        'The body must be signed: X-Signature is the hex HMAC-SHA256 of the raw body bytes keyed ' +
        'with WEBHOOK_SECRET (a sha256= prefix is accepted). A message_id already stored is ' +
        'acknowledged with 200 and changes nothing. 200 is sent only after the row is committed. ' +
        'The checks run in this order: size (413), content type (415), secret configured (503), ' +
        'signature (401), body (422). When STANDARD_WEBHOOKS_SECRET is set, a request with a ' +
        'webhook-signature header is verified by the Standard Webhooks scheme instead ' +
        '(standardwebhooks.com, v1): webhook-id, webhook-timestamp and webhook-signature are ' +
        'all required, X-Signature is ignored, and each failure is a 401 naming its cause.',
      headers: Type.Object({
        'x-signature': Type.Optional(
          Type.String({
            description:
              'hex HMAC-SHA256 of the raw body bytes keyed with WEBHOOK_SECRET, in either case, ' +
              'optionally prefixed sha256=; without it, or with a wrong one, the answer is 401',
          }),
        ),
        'webhook-id': Type.Optional(
          Type.String({
            description:
              'Standard Webhooks: the delivery id (msg_…), the first part of the signed content',
          }),
        ),
        'webhook-timestamp': Type.Optional(
          Type.String({
            description:
              'Standard Webhooks: when the delivery was attempted, in whole unix seconds; more than ' +
              'STANDARD_WEBHOOKS_TOLERANCE_S (300 by default) from now, either way, is a 401',
          }),
        ),
        'webhook-signature': Type.Optional(
          Type.String({
            description:
              'Standard Webhooks: space-separated v1,<base64 HMAC-SHA256> of ' +
              '"<webhook-id>.<webhook-timestamp>.<raw body>" keyed with the base64-decoded ' +
              'whsec_ key; one match with STANDARD_WEBHOOKS_SECRET (or _PREVIOUS) is enough and ' +
              'other versions (v1a) are ignored. Ignored unless STANDARD_WEBHOOKS_SECRET is set; ' +
              'when it is, its presence selects this scheme over X-Signature',
          }),
        ),
      }),
      body: MessageSchema,
      response: {
        200: documented(
          Ok,
          'Stored and committed, or already stored (a repeated message_id changes nothing)',
          { examples: [{ status: 'ok' }] },
        ),
        401: errorResponse(
          'X-Signature is missing or is not the HMAC-SHA256 of the body; or, for Standard ' +
            'Webhooks, a header is missing, the timestamp is malformed or outside the tolerance, ' +
            'or no v1 signature matches',
          Object.values(STANDARD_DETAIL),
        ),
        413: errorResponse('The body is larger than MAX_BODY_BYTES (65536 by default)', [
          DETAIL.bodyTooLarge,
        ]),
        415: errorResponse(
          'Content-Type is not application/json (parameters such as charset are allowed), or the body is compressed',
          [DETAIL.notJson, DETAIL.compressed],
        ),
        422: documented(
          ValidationErrorBody,
          'The body is not UTF-8, not JSON, not an object, or not a valid message: one entry per problem',
          {
            examples: [
              {
                detail: [
                  {
                    loc: ['body', 'from'],
                    msg: "String should match pattern '^\\+[1-9][0-9]{1,14}$'",
                    type: 'string_pattern_mismatch',
                  },
                ],
              },
            ],
          },
        ),
        503: errorResponse(
          'No WEBHOOK_SECRET is configured (for a request without Standard Webhooks headers), or the database cannot take the write (locked for more than 5 s, read-only, full): retry later',
          [DETAIL.secretNotConfigured, DETAIL.unavailable],
          RETRY_AFTER,
        ),
      },
    },
    onRequest: readBodyFirst,
    preValidation: checkDelivery,
    handler: async (request) => {
      const outcome = await store.insert(request.body, {
        source: 'webhook',
        payload: rawBodies.get(request) ?? null,
        received_at: secondsOf(clock()),
      });
      request.webhook = { result: outcome, dup: outcome === 'duplicate' };
      return { status: 'ok' as const };
    },
  });

  rejectOtherMethods(app, '/webhook', ['POST']);

  // Every answer gets its result, including those Fastify sends itself (413): a 200 carries the
  // handler's created/duplicate, anything else follows from its status.
  app.addHook('onSend', async (request, reply) => {
    const status = reply.statusCode;
    let result: WebhookResult;
    if (status === 200 && request.webhook !== null) result = request.webhook.result;
    else if (status === 503 && secret === null && !verifiedBy.has(request))
      result = 'not_configured';
    else result = REFUSAL_RESULTS[status] ?? 'error';
    request.webhook = { result, dup: result === 'duplicate' };
    const scheme = verifiedBy.get(request);
    if (scheme !== undefined) request.webhook.scheme = scheme;
    const messageId = messageIdOf(request.body);
    if (messageId !== undefined) request.webhook.message_id = messageId;
  });
};

export default webhookRoutes;
