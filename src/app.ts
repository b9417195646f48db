import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { clientErrorHandler, registerErrorHandling } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { registerObservation, requestId } from './observe.js';
import { registerDocs } from './routes/docs.js';
import healthRoutes from './routes/health.js';
import messagesRoutes from './routes/messages.js';
import metricsRoutes from './routes/metrics.js';
import statsRoutes from './routes/stats.js';
import webhookRoutes from './routes/webhook.js';
import type { Store } from './store/store.js';
import { ajv } from './validation.js';

export interface AppOptions {
  store: Store;
  logger: FastifyBaseLogger;
  /** null when none is configured: webhooks then get 503 and the service is not ready */
  webhookSecret: string | null;
  /** also accepted while senders switch to webhookSecret */
  previousWebhookSecret?: string | null;
  /** when set, GET /messages and /stats require `Authorization: Bearer <readToken>` */
  readToken?: string | null;
  maxBodyBytes: number;
  metrics?: Metrics;
}

/** Longest time a client may take to send one whole request (headers and body). */
const REQUEST_TIMEOUT_MS = 10_000;

/** Builds the HTTP app around a store. It never listens and never reads the environment. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // observe.ts writes the one line per request; Fastify's own request lines are off
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'request_id',
    }),
    genReqId: requestId,
    requestTimeout: REQUEST_TIMEOUT_MS,
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
  await registerDocs(app);

  await app.register(webhookRoutes, {
    store,
    secret: options.webhookSecret,
    previousSecret: options.previousWebhookSecret ?? null,
    maxBodyBytes: options.maxBodyBytes,
  });
  const readToken = options.readToken ?? null;
  await app.register(messagesRoutes, { store, readToken });
  await app.register(statsRoutes, { store, readToken });
  await app.register(healthRoutes, { store, secretConfigured: options.webhookSecret !== null });
  await app.register(metricsRoutes, { metrics });
  return app;
}
