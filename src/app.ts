import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { clientErrorHandler, registerErrorHandling } from './http/errors.js';
import { requireHost } from './http/guards.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { registerObservation, requestId } from './http/observe.js';
import { registerDocs } from './http/openapi.js';
import eventsRoutes from './routes/events.js';
import healthRoutes from './routes/health.js';
import messagesRoutes from './routes/messages.js';
import metricsRoutes from './routes/metrics.js';
import pageRoutes from './routes/page.js';
import statsRoutes from './routes/stats.js';
import webhookRoutes from './routes/webhook.js';
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
  /** when set, GET /messages and /stats require `Authorization: Bearer <readToken>` */
  readToken?: string | null;
  maxBodyBytes: number;
  metrics?: Metrics;
  /** how often GET /events sends a keep-alive comment (default 15 s) */
  eventsHeartbeatMs?: number;
  /** the built inbox page served at / (default: dist/web beside the compiled server) */
  pageDir?: string;
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
  });
  const readToken = options.readToken ?? null;
  await app.register(messagesRoutes, { store, readToken });
  await app.register(statsRoutes, { store, readToken });
  await app.register(eventsRoutes, {
    store,
    readToken,
    ...(options.eventsHeartbeatMs === undefined ? {} : { heartbeatMs: options.eventsHeartbeatMs }),
  });
  const secretConfigured = options.webhookSecret !== null || options.standardWebhooks != null;
  const senders = {
    webhook: options.webhookSecret !== null,
    standard_webhooks: options.standardWebhooks != null,
  };
  await app.register(healthRoutes, { store, secretConfigured, senders });
  await app.register(metricsRoutes, { metrics });
  await app.register(pageRoutes, options.pageDir === undefined ? {} : { dir: options.pageDir });
  return app;
}
