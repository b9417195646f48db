/**
 * The process: read the configuration, open the store, build the app, listen, and shut down
 * gracefully on SIGTERM or SIGINT. Everything it prints is one JSON object per line.
 */
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** How long a graceful shutdown may take before the process gives up and exits 1. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * After a stop signal, how long open connections keep being served (each answer then closing its
 * connection) before the server stops listening and drops the connections that are left idle.
 */
const DRAIN_MS = 1000;

/** The drain ends early once no connection has been open or accepted for this long. */
const QUIET_MS = 100;

/**
 * Resolves after `ms`, or earlier once `server` has had no open connection and accepted none
 * for QUIET_MS: a connection a sender opened before the signal may still wait in the accept
 * queue, where it is not counted yet.
 */
async function drained(server: Server, ms: number): Promise<void> {
  const until = Date.now() + ms;
  let lastActivity = Date.now();
  const onConnection = () => {
    lastActivity = Date.now();
  };
  server.on('connection', onConnection);
  try {
    while (Date.now() < until) {
      const open = await new Promise<number>((resolve) =>
        server.getConnections((error, count) => resolve(error ? 0 : count)),
      );
      if (open > 0) lastActivity = Date.now();
      else if (Date.now() - lastActivity >= QUIET_MS) return;
      await sleep(20);
    }
  } finally {
    server.off('connection', onConnection);
  }
}

function fail(logger: Logger, msg: string, error: unknown): never {
  const err =
    error instanceof Error
      ? { name: error.name, message: error.message, stack: error.stack }
      : { message: String(error) };
  logger.error({ err }, msg);
  process.exit(1);
}

/** Routes Node's own output (warnings, uncaught errors) through the JSON logger. */
function captureProcessOutput(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ warning: warning.name }, warning.message));
  process.on('uncaughtException', (error) => fail(logger, 'uncaught exception', error));
  process.on('unhandledRejection', (error) => fail(logger, 'unhandled rejection', error));
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    const variable = error instanceof ConfigError ? error.variable : undefined;
    createLogger('info').error({ variable }, `invalid configuration: ${(error as Error).message}`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  captureProcessOutput(logger);

  // Loaded here, not at the top, so that even a failure to load them is reported as JSON.
  const [{ buildApp }, { openStore }, { createMetrics }, { Retention }] = await Promise.all([
    import('./app.js'),
    import('./store/open.js'),
    import('./http/metrics.js'),
    import('./retention.js'),
  ]);

  // A PostgreSQL store that cannot reach its database yet still opens (and retries on its own):
  // the process serves /health/live meanwhile. Only a failure retrying cannot fix stops it here.
  const store = await openStore(config.database, { logger }).catch((error) =>
    fail(logger, 'cannot open the database', error),
  );
  const metrics = createMetrics();
  const app = await buildApp({
    store,
    logger,
    metrics,
    webhookSecret: config.webhookSecret,
    previousWebhookSecret: config.previousWebhookSecret,
    standardWebhooks:
      config.standardWebhooksSecret === null
        ? null
        : {
            secret: config.standardWebhooksSecret,
            previousSecret: config.previousStandardWebhooksSecret,
            toleranceSeconds: config.standardWebhooksToleranceSeconds,
          },
    readToken: config.readToken,
    adminToken: config.adminToken,
    maxBodyBytes: config.maxBodyBytes,
    whatsapp: config.whatsapp,
  });

  const retention =
    config.retentionDays === null
      ? null
      : new Retention({
          store,
          days: config.retentionDays,
          intervalMs: config.retentionIntervalMs,
          logger,
          metrics: metrics.keeping,
        });

  // Graceful shutdown. Closing at once would race the senders: a request already on its way over
  // a keep-alive connection that looks idle would be cut off unanswered. So from the signal on,
  // every answer carries `Connection: close` (a sender's next request opens a new connection),
  // and for DRAIN_MS everything that arrives is still served. Then the server stops listening,
  // drops the idle connections, finishes the requests in flight (a request that reaches a route
  // while it closes is served too: return503OnClosing is off), and the store commits its last
  // writes before the process exits 0.
  let stopping = false;
  app.addHook('onSend', async (_request, reply) => {
    if (stopping) reply.header('connection', 'close');
  });
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) fail(logger, 'stopped without finishing', `second ${signal}`);
    stopping = true;
    logger.info({ signal, drain_ms: DRAIN_MS }, 'shutting down: finishing requests in flight');
    setTimeout(
      () => fail(logger, 'shutdown timed out', `after ${SHUTDOWN_TIMEOUT_MS} ms`),
      SHUTDOWN_TIMEOUT_MS,
    ).unref();
    await drained(app.server, DRAIN_MS);
    await app.close();
    await retention?.stop();
    await store.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  await app.listen({
    host: config.host,
    port: config.port,
    listenTextResolver: (url) => `listening at ${url}`,
  });
  const address = app.server.address();
  logger.info(
    {
      port: typeof address === 'object' && address !== null ? address.port : config.port,
      host: config.host,
      database: config.database.kind,
      secret_configured: config.webhookSecret !== null,
      previous_secret_configured: config.previousWebhookSecret !== null,
      standard_webhooks_configured: config.standardWebhooksSecret !== null,
      standard_webhooks_previous_configured: config.previousStandardWebhooksSecret !== null,
      standard_webhooks_tolerance_s: config.standardWebhooksToleranceSeconds,
      read_token_configured: config.readToken !== null,
      admin_token_configured: config.adminToken !== null,
      retention_days: config.retentionDays,
      retention_interval_s: config.retentionIntervalMs / 1000,
      max_body_bytes: config.maxBodyBytes,
    },
    'started',
  );
  retention?.start();
  if (config.webhookSecret === null && config.standardWebhooksSecret === null) {
    logger.warn(
      'WEBHOOK_SECRET is not set: webhooks are refused with 503 and /health/ready is 503',
    );
  } else if (config.webhookSecret === null) {
    logger.warn(
      'WEBHOOK_SECRET is not set: only Standard Webhooks requests are accepted; those signed with X-Signature are refused with 503',
    );
  }
}

main().catch((error) => fail(createLogger('error'), 'start-up failed', error));
