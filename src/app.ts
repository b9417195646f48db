import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { WhatsappConfig } from './config.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/errors.js';
import { requireHost } from './http/guards.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { registerObservation, requestId } from './http/observe.js';
import { registerDocs } from './http/openapi.js';
import dailyRoutes from './routes/daily.js';
import eraseRoutes from './routes/erase.js';
import eventsRoutes from './routes/events.js';
import exportRoutes from './routes/export.js';
import healthRoutes from './routes/health.js';
import messageRoutes from './routes/message.js';
import messagesRoutes from './routes/messages.js';
import metricsRoutes from './routes/metrics.js';
import pageRoutes from './routes/page.js';
import statsRoutes from './routes/stats.js';
import statusesRoutes from './routes/statuses.js';
import webhookRoutes from './routes/webhook.js';
import whatsappRoutes from './routes/whatsapp.js';
import type { StandardWebhooksOptions } from './standard-webhooks.js';
import type { Store } from './store/store.js';
import { ajv } from './validation.js';

export interface AppOptions {
  store: Store;
  logger: FastifyBaseLogger;
  /** null when none is configured: webhooks then get 503 and the service is not ready */
  webhookSecret: string | null;
  /** also accepted while senders switch to webhookSecret */
  previousWebhookSecret?: string | null;
  /** Standard Webhooks signatures on POST /webhook; null or absent when not configured */
  standardWebhooks?: StandardWebhooksOptions | null;
  /** ADMIN_TOKEN: erasure requires `Authorization: Bearer <adminToken>`; null or absent: off */
  adminToken?: string | null;
  /** when set, GET /messages and /stats require `Authorization: Bearer <readToken>` */
  readToken?: string | null;
  maxBodyBytes: number;
  metrics?: Metrics;
  /** how often GET /events sends a keep-alive comment (default 15 s) */
  eventsHeartbeatMs?: number;
  /** the built inbox page served at / (default: dist/web beside the compiled server) */
  pageDir?: string;
  /** /webhooks/whatsapp; absent: nothing configured (its POST and GET answer 503) */
  whatsapp?: WhatsappConfig;
  /** the service's clock (received_at); the system clock by default */
  clock?: () => Date;
}

/** Longest time a client may take to send one whole request (headers and body). */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * How often Node looks for requests past REQUEST_TIMEOUT_MS: a slow sender is cut off between
 * 10 and 11 s (Node's default, 30 s, would let it stay up to 40 s).
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * A connection on which nothing moves either way for this long (twice as long when its answers
 * were still draining) is closed: a client that never reads its answers cannot hold one forever.
 * Well above the longest wait for the database with the default settings (5 s per lock, pooled
 * connection or statement), so a request in progress is not cut by it. An idle keep-alive
 * connection is closed after Fastify's keepAliveTimeout (72 s) instead.
 */
const CONNECTION_TIMEOUT_MS = 20_000;

const NO_WHATSAPP: WhatsappConfig = {
  appSecret: null,
  previousAppSecret: null,
  verifyToken: null,
  maxBodyBytes: 3 * 1024 * 1024,
};

/** Longest path segment read as a message id (longer: 404). */
const MAX_ID_SEGMENT = 256 * 12;

/** Builds the HTTP app around a store. It never listens and never reads the environment. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // http/observe.ts writes the one line per request; Fastify's own request lines are off
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'request_id',
    }),
    genReqId: requestId,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    http: {
      // Node swaps the two when headersTimeout is the longer (its default is 60 s): the whole
      // request would then get 60 s, and only the headers 10 s
      headersTimeout: REQUEST_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      // Node would answer a request without Host itself, with no body and no log line:
      // requireHost (http/guards.ts) answers it instead
      requireHostHeader: false,
    },
    // a request that reaches a route while the server closes is served like any other (see the
    // shutdown in server.ts), not refused with a 503 outside the error envelope
    return503OnClosing: false,
    clientErrorHandler: clientErrorHandler(options.logger),
    // a message_id of 256 characters, percent-encoded (up to 12 characters per code point)
    routerOptions: { maxParamLength: MAX_ID_SEGMENT },
    frameworkErrors,
  });
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));

  const metrics = options.metrics ?? createMetrics();
  const { store } = options;
  metrics.watchSearchBacklog(() => store.searchBacklog?.() ?? 0);
  registerErrorHandling(app);
  registerObservation(app, metrics);
  requireHost(app);
  await registerDocs(app);

  await app.register(webhookRoutes, {
    store,
    secret: options.webhookSecret,
    previousSecret: options.previousWebhookSecret ?? null,
    standardWebhooks: options.standardWebhooks ?? null,
    maxBodyBytes: options.maxBodyBytes,
    clock: options.clock ?? (() => new Date()),
  });
  await app.register(whatsappRoutes, {
    store,
    metrics,
    ...(options.whatsapp ?? NO_WHATSAPP),
    clock: options.clock ?? (() => new Date()),
  });
  const readToken = options.readToken ?? null;
  await app.register(messagesRoutes, { store, readToken });
  await app.register(exportRoutes, { store, readToken });
  await app.register(eraseRoutes, {
    store,
    adminToken: options.adminToken ?? null,
    metrics: metrics.keeping,
  });
  await app.register(messageRoutes, { store, readToken });
  await app.register(statsRoutes, { store, readToken });
  await app.register(eventsRoutes, {
    store,
    readToken,
    ...(options.eventsHeartbeatMs === undefined ? {} : { heartbeatMs: options.eventsHeartbeatMs }),
  });
  await app.register(statusesRoutes, { store, readToken });
  await app.register(dailyRoutes, { store, readToken });
  const secretConfigured = options.webhookSecret !== null || options.standardWebhooks != null;
  await app.register(healthRoutes, {
    store,
    secretConfigured,
    sources: {
      webhook: options.webhookSecret !== null,
      standard_webhooks: options.standardWebhooks != null,
      whatsapp: options.whatsapp?.appSecret != null,
    },
  });
  await app.register(metricsRoutes, { metrics });
  await app.register(pageRoutes, options.pageDir === undefined ? {} : { dir: options.pageDir });
  return app;
}
