import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DETAIL, HttpError, validationError } from '../http/errors.js';
import { isJsonContentType, rejectOtherMethods } from '../http/guards.js';
import { parseJson } from '../http/json-body.js';
import type { Metrics, WhatsappResult } from '../http/metrics.js';
import { REFUSAL_RESULTS } from '../http/metrics.js';
import { secondsOf } from '../store/records.js';
import type { Store } from '../store/store.js';
import { parseDelivery } from '../whatsapp/envelope.js';
import { verifyHubSignature } from '../whatsapp/signature.js';
import { HANDSHAKE_SCHEMA, POST_SCHEMA } from './whatsapp-docs.js';

/**
 * /webhooks/whatsapp: Meta's WhatsApp Cloud API.
 *
 * GET is the verification handshake: 503 without WHATSAPP_VERIFY_TOKEN; the challenge, as
 * text/plain, when hub.mode is subscribe and hub.verify_token is the token; else 403.
 *
 * POST, checked in this order: size (413, WHATSAPP_MAX_BODY_BYTES), content type (415), app
 * secret configured (503), X-Hub-Signature-256 over the raw bytes (401), the envelope and every
 * item (422, nothing stored), then the whole delivery stored in one transaction and 200 once it
 * is committed. A redelivery stores nothing new and is answered 200 too.
 */

export interface WhatsappOptions {
  store: Store;
  metrics: Metrics;
  /** WHATSAPP_APP_SECRET, or null when unset */
  appSecret: string | null;
  previousAppSecret?: string | null;
  /** WHATSAPP_VERIFY_TOKEN, or null when unset */
  verifyToken: string | null;
  maxBodyBytes: number;
  clock?: () => Date;
}

export const WHATSAPP_URL = '/webhooks/whatsapp';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

const whatsappRoutes: FastifyPluginAsyncTypebox<WhatsappOptions> = async (app, options) => {
  const { store, metrics, appSecret, verifyToken, maxBodyBytes } = options;
  const clock = options.clock ?? (() => new Date());
  const secrets = [appSecret, options.previousAppSecret].filter(
    (key): key is string => typeof key === 'string',
  );
  const expectedToken = verifyToken === null ? null : digest(verifyToken);

  app.get(WHATSAPP_URL, {
    schema: HANDSHAKE_SCHEMA,
    // documented only: any query that is not the handshake is a 403, never a 422
    validatorCompiler: () => () => true,
    handler: async (request, reply) => {
      if (expectedToken === null) throw new HttpError(503, DETAIL.verifyTokenNotConfigured);
      const query = request.query as Record<string, unknown>;
      const mode = query['hub.mode'];
      const token = query['hub.verify_token'];
      const challenge = query['hub.challenge'];
      const tokenMatches =
        typeof token === 'string' && timingSafeEqual(digest(token), expectedToken);
      if (mode !== 'subscribe' || !tokenMatches || typeof challenge !== 'string') {
        throw new HttpError(403, DETAIL.verificationFailed);
      }
      return reply
        .type('text/plain; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .send(challenge);
    },
  });

  // every content type is read as raw bytes: the size is checked first, and the signature is
  // computed over exactly what was sent
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_r, body, done) =>
    done(null, body),
  );

  /** Any content type Fastify cannot parse as a media type is read (and measured) first too. */
  async function readBodyFirst(request: FastifyRequest): Promise<void> {
    const type = request.headers['content-type'];
    if (type !== undefined && !isJsonContentType(type)) {
      request.headers['content-type'] = 'application/octet-stream';
    }
  }

  const verified = new WeakSet<FastifyRequest>();

  async function checkDelivery(request: FastifyRequest): Promise<void> {
    if (!isJsonContentType(request.headers['content-type'])) {
      throw new HttpError(415, DETAIL.notJson);
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new HttpError(415, DETAIL.compressed);
    }
    if (appSecret === null) throw new HttpError(503, DETAIL.appSecretNotConfigured);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = request.headers['x-hub-signature-256'];
    if (!verifyHubSignature(secrets, body, typeof header === 'string' ? header : undefined)) {
      throw new HttpError(401, DETAIL.invalidSignature);
    }
    verified.add(request);
    request.body = parseJson(body);
  }

  app.post(WHATSAPP_URL, {
    schema: POST_SCHEMA,
    onRequest: readBodyFirst,
    preValidation: checkDelivery,
    // the body is checked by parseDelivery, which knows what a delivery may hold; the schema
    // only documents it
    validatorCompiler: () => () => true,
    handler: async (request, reply: FastifyReply) => {
      const parsed = parseDelivery(request.body, secondsOf(clock()));
      if (!parsed.ok) throw validationError(parsed.issues);
      const { delivery, otherFields } = parsed.value;
      const fields = {
        messages: delivery.messages.length,
        statuses: delivery.statuses.length,
        other_fields: otherFields,
      };
      const outcome = await store.storeDelivery(delivery);
      const created = outcome.messages.created + outcome.statuses.created;
      const result: WhatsappResult =
        created > 0 ? 'stored' : fields.messages + fields.statuses > 0 ? 'duplicate' : 'ignored';
      request.logFields = {
        result,
        ...fields,
        created_messages: outcome.messages.created,
        created_statuses: outcome.statuses.created,
      };
      metrics.countStored('message', 'whatsapp', outcome.messages.created);
      metrics.countStored('status', 'whatsapp', outcome.statuses.created);
      metrics.countIgnoredChanges(otherFields);
      const types = new Map<string | null, number>();
      for (const { details } of delivery.messages) {
        types.set(details.type, (types.get(details.type) ?? 0) + 1);
      }
      for (const [type, count] of types) metrics.countWhatsappType(type, count);
      return reply.send({ status: 'ok' as const });
    },
  });

  rejectOtherMethods(app, WHATSAPP_URL, ['GET', 'POST']);

  // Every POST answer gets its result, including those Fastify sends itself (413), and the
  // answers of other methods theirs (405); the handshake has none.
  const counted = (request: FastifyRequest) =>
    request.routeOptions.url === WHATSAPP_URL &&
    request.method !== 'GET' &&
    request.method !== 'HEAD';
  app.addHook('onSend', async (request, reply) => {
    if (!counted(request) || reply.statusCode === 200) return;
    const status = reply.statusCode;
    const result: WhatsappResult =
      status === 503 && appSecret === null && !verified.has(request)
        ? 'not_configured'
        : (REFUSAL_RESULTS[status] ?? 'error');
    request.logFields = { result, ...(request.logFields ?? {}) };
  });
  app.addHook('onResponse', async (request) => {
    if (!counted(request)) return;
    metrics.countWhatsappDelivery((request.logFields?.result as WhatsappResult) ?? 'error');
  });
};

export default whatsappRoutes;
