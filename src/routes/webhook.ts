import { isUtf8 } from 'node:buffer';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  ErrorBody,
  HttpError,
  rejectOtherMethods,
  ValidationErrorBody,
  validationError,
} from '../errors.js';
import { type Message, MessageSchema } from '../message.js';
import type { WebhookResult } from '../metrics.js';
import { verify } from '../signature.js';
import type { Store } from '../store/store.js';

/**
 * POST /webhook, from raw bytes to stored row:
 *
 * 1. the body is read as raw bytes whatever its content type; more than maxBodyBytes → 413
 * 2. content type not application/json, or a Content-Encoding (gzip...) → 415
 * 3. no secret configured → 503
 * 4. X-Signature is not the HMAC-SHA256 of those exact bytes → 401
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
  maxBodyBytes: number;
}

const Ok = Type.Object({ status: Type.Literal('ok') });

const RESULT_BY_STATUS: Record<number, WebhookResult> = {
  401: 'invalid_signature',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_error',
  503: 'unavailable',
};

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const end = header.indexOf(';');
  return (end === -1 ? header : header.slice(0, end)).trim().toLowerCase() === 'application/json';
}

/** The body as a JSON value, or a 422 naming why it is not one. */
function parseJson(body: Buffer): unknown {
  if (!isUtf8(body)) {
    throw validationError([
      { loc: ['body'], msg: 'Body is not valid UTF-8', type: 'utf8_invalid' },
    ]);
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw validationError([
      { loc: ['body'], msg: `Invalid JSON: ${(error as Error).message}`, type: 'json_invalid' },
    ]);
  }
}

const webhookRoutes: FastifyPluginAsync<WebhookOptions> = async (
  app,
  { store, secret, maxBodyBytes },
) => {
  // Every content type is read as raw bytes, so the size check comes first and the signature is
  // computed over exactly what was sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: maxBodyBytes },
    (_request, body, done) => done(null, body),
  );

  async function checkDelivery(request: FastifyRequest): Promise<void> {
    if (!isJsonContentType(request.headers['content-type'])) {
      throw new HttpError(415, 'content type must be application/json');
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new HttpError(415, 'content encoding is not supported: send the JSON uncompressed');
    }
    if (secret === null) throw new HttpError(503, 'webhook secret is not configured');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const signature = request.headers['x-signature'];
    if (!verify(secret, body, typeof signature === 'string' ? signature : undefined)) {
      throw new HttpError(401, 'invalid signature');
    }
    request.body = parseJson(body);
  }

  /** The message_id of a parsed body, for the log line; never read from unverified bytes. */
  function messageIdOf(body: unknown): string | undefined {
    if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return undefined;
    const id = (body as { message_id?: unknown }).message_id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  }

  app.post<{ Body: Message }>('/webhook', {
    schema: {
      summary: 'Receive one signed message',
      description:
        'The body must be signed: X-Signature is the hex HMAC-SHA256 of the raw body bytes keyed ' +
        'with WEBHOOK_SECRET (a sha256= prefix is accepted). A message_id already stored is ' +
        'acknowledged with 200 and changes nothing. 200 is sent only after the row is committed.',
      headers: Type.Object({
        'x-signature': Type.Optional(
          Type.String({
            description: 'hex HMAC-SHA256 of the raw body, optionally prefixed sha256=',
          }),
        ),
      }),
      body: MessageSchema,
      response: {
        200: Ok,
        401: ErrorBody,
        413: ErrorBody,
        415: ErrorBody,
        422: ValidationErrorBody,
        503: ErrorBody,
      },
    },
    preValidation: checkDelivery,
    handler: async (request) => {
      const outcome = await store.insert(request.body);
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
    else if (status === 503 && secret === null) result = 'not_configured';
    else result = RESULT_BY_STATUS[status] ?? 'error';
    request.webhook = { result, dup: result === 'duplicate' };
    const messageId = messageIdOf(request.body);
    if (messageId !== undefined) request.webhook.message_id = messageId;
  });
};

export default webhookRoutes;
