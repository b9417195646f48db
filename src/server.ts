/**
 * The process: read the configuration, open the store, build the app, listen, and shut down
 * gracefully on SIGTERM or SIGINT. Everything it prints is one JSON object per line.
 */
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** How long a graceful shutdown may take before the process gives up and exits 1. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

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
  const [{ buildApp }, { openStore }] = await Promise.all([
    import('./app.js'),
    import('./store/open.js'),
  ]);

  // A PostgreSQL store that cannot reach its database yet still opens (and retries on its own):
  // the process serves /health/live meanwhile. Only a failure retrying cannot fix stops it here.
  const store = await openStore(config.database, { logger }).catch((error) =>
    fail(logger, 'cannot open the database', error),
  );
  const app = await buildApp({
    store,
    logger,
    webhookSecret: config.webhookSecret,
    previousWebhookSecret: config.previousWebhookSecret,
    readToken: config.readToken,
    maxBodyBytes: config.maxBodyBytes,
  });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) fail(logger, 'stopped without finishing', `second ${signal}`);
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    setTimeout(
      () => fail(logger, 'shutdown timed out', `after ${SHUTDOWN_TIMEOUT_MS} ms`),
      SHUTDOWN_TIMEOUT_MS,
    ).unref();
    await app.close();
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
      read_token_configured: config.readToken !== null,
      max_body_bytes: config.maxBodyBytes,
    },
    'started',
  );
  if (config.webhookSecret === null) {
    logger.warn(
      'WEBHOOK_SECRET is not set: webhooks are refused with 503 and /health/ready is 503',
    );
  }
}

main().catch((error) => fail(createLogger('error'), 'start-up failed', error));
