import { resolve } from 'node:path';
import { type Static, Type } from 'typebox';
import { STANDARD_KEY_PATTERN } from './standard-webhooks.js';
import { ajv } from './validation.js';

/**
 * Configuration comes from the environment only, is validated once at start, and is then a
 * plain typed object. An empty variable counts as unset (compose passes `${VAR}` through as "").
 */

/** A Standard Webhooks key, as the sending platform shows it. */
const StandardKey = Type.String({
  pattern: STANDARD_KEY_PATTERN,
  description: 'whsec_ followed by the standard base64 (with = padding) of a 24 to 64 byte key',
});

const EnvSchema = Type.Object({
  WEBHOOK_SECRET: Type.Optional(Type.String({ description: 'the HMAC key' })),
  WEBHOOK_SECRET_PREVIOUS: Type.Optional(
    Type.String({ description: 'a second HMAC key, accepted too while senders switch keys' }),
  ),
  STANDARD_WEBHOOKS_SECRET: Type.Optional(StandardKey),
  STANDARD_WEBHOOKS_SECRET_PREVIOUS: Type.Optional(StandardKey),
  STANDARD_WEBHOOKS_TOLERANCE_S: Type.String({
    default: '300',
    pattern: '^0*(?:[1-9][0-9]{0,3}|[1-7][0-9]{4}|8[0-5][0-9]{3}|86[0-3][0-9]{2}|86400)$',
    description: 'a whole number of seconds from 1 to 86400',
  }),
  WHATSAPP_APP_SECRET: Type.Optional(
    Type.String({ description: "the Meta app's secret, which signs X-Hub-Signature-256" }),
  ),
  WHATSAPP_APP_SECRET_PREVIOUS: Type.Optional(
    Type.String({ description: 'a second app secret, accepted too while the app secret rotates' }),
  ),
  WHATSAPP_VERIFY_TOKEN: Type.Optional(
    Type.String({ description: "the verify token typed into Meta's dashboard" }),
  ),
  WHATSAPP_MAX_BODY_BYTES: Type.String({
    default: '3145728',
    pattern: '^0*[1-9][0-9]{0,8}$',
    description: 'a whole number of bytes from 1 to 999999999',
  }),
  READ_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      description: 'a bearer token of at least 16 characters',
    }),
  ),
  ADMIN_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'a bearer token of at least 16 printable ASCII characters, no spaces',
    }),
  ),
  RETENTION_DAYS: Type.Optional(
    Type.String({
      pattern: '^0*(?:[1-9][0-9]{0,3}|[1-2][0-9]{4}|3[0-5][0-9]{3}|36[0-4][0-9]{2}|36500)$',
      description: 'a whole number of days from 1 to 36500',
    }),
  ),
  RETENTION_INTERVAL_S: Type.String({
    default: '600',
    pattern: '^0*(?:[1-9][0-9]{0,3}|[1-7][0-9]{4}|8[0-5][0-9]{3}|86[0-3][0-9]{2}|86400)$',
    description: 'a whole number of seconds from 1 to 86400',
  }),
  DATABASE_URL: Type.String({
    default: 'sqlite:///./data/app.db',
    pattern: '^(sqlite://|postgres://|postgresql://)',
    description:
      'sqlite:///relative/path, sqlite:////absolute/path, sqlite://:memory:, postgres://… or postgresql://…',
  }),
  LOG_LEVEL: Type.String({
    default: 'INFO',
    pattern:
      '^(?:[Dd][Ee][Bb][Uu][Gg]|[Ii][Nn][Ff][Oo]|[Ww][Aa][Rr][Nn](?:[Ii][Nn][Gg])?|[Ee][Rr][Rr][Oo][Rr])$',
    description: 'one of DEBUG, INFO, WARNING, ERROR (any case)',
  }),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1, description: 'an address to listen on' }),
  PORT: Type.String({
    default: '8000',
    pattern:
      '^0*(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$',
    description: 'an integer from 0 to 65535 (0 picks a free port)',
  }),
  MAX_BODY_BYTES: Type.String({
    default: '65536',
    pattern: '^0*[1-9][0-9]{0,8}$',
    description: 'a whole number of bytes from 1 to 999999999',
  }),
  DATABASE_POOL_SIZE: Type.String({
    default: '10',
    pattern: '^0*(?:[1-9][0-9]?|100)$',
    description: 'a whole number of connections from 1 to 100 (PostgreSQL only)',
  }),
  DATABASE_TIMEOUT_MS: Type.String({
    default: '5000',
    pattern: '^0*(?:[1-9][0-9]{2,4}|[1-5][0-9]{5}|600000)$',
    description: 'a whole number of milliseconds from 100 to 600000 (PostgreSQL only)',
  }),
});

type Env = Static<typeof EnvSchema>;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type DatabaseConfig =
  | { kind: 'sqlite' /** a file path, or ':memory:' */; path: string }
  | ({ kind: 'postgres'; url: string } & PostgresSettings);

export interface PostgresSettings {
  /** most connections one process opens (DATABASE_POOL_SIZE) */
  poolSize: number;
  /**
   * DATABASE_TIMEOUT_MS: the longest wait for a connection, a lock or a statement, so that a
   * stuck database turns into a 503 instead of a request that hangs
   */
  timeoutMs: number;
}

export const POSTGRES_DEFAULTS: PostgresSettings = { poolSize: 10, timeoutMs: 5000 };

export interface Config {
  /** null when unset or empty: the service then refuses webhooks with 503 and is not ready */
  webhookSecret: string | null;
  /** WEBHOOK_SECRET_PREVIOUS: also accepted, so that a sender can switch secrets with no downtime */
  previousWebhookSecret: string | null;
  /**
   * STANDARD_WEBHOOKS_SECRET (`whsec_…`): when set, a request with a `webhook-signature` header is
   * verified by the Standard Webhooks scheme instead of X-Signature; null when unset
   */
  standardWebhooksSecret: string | null;
  /** STANDARD_WEBHOOKS_SECRET_PREVIOUS: also accepted while a sender rotates its key */
  previousStandardWebhooksSecret: string | null;
  /** STANDARD_WEBHOOKS_TOLERANCE_S: how far `webhook-timestamp` may be from now, either way */
  standardWebhooksToleranceSeconds: number;
  /** RETENTION_DAYS: messages and statuses received longer ago are deleted; null: kept forever */
  retentionDays: number | null;
  /** RETENTION_INTERVAL_S, in ms: how often the retention sweep runs */
  retentionIntervalMs: number;
  /** ADMIN_TOKEN: the bearer token erasure requires; null (unset): erasure answers 403 */
  adminToken: string | null;
  /** POST and GET /webhooks/whatsapp */
  whatsapp: WhatsappConfig;
  /** READ_TOKEN: when set, GET /messages and /stats require `Authorization: Bearer <token>` */
  readToken: string | null;
  database: DatabaseConfig;
  logLevel: LogLevel;
  host: string;
  port: number;
  maxBodyBytes: number;
}

export interface WhatsappConfig {
  /** WHATSAPP_APP_SECRET; null when unset: POST /webhooks/whatsapp then answers 503 */
  appSecret: string | null;
  /** WHATSAPP_APP_SECRET_PREVIOUS: also accepted while the app secret rotates */
  previousAppSecret: string | null;
  /** WHATSAPP_VERIFY_TOKEN; null when unset: the GET handshake then answers 503 */
  verifyToken: string | null;
  /** WHATSAPP_MAX_BODY_BYTES: the largest delivery accepted */
  maxBodyBytes: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

const validateEnv = ajv.compile<Env>(EnvSchema);

const LOG_LEVELS: Record<string, LogLevel> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  WARNING: 'warn',
  ERROR: 'error',
};

/**
 * `sqlite:///relative/path`, `sqlite:////absolute/path` and `sqlite://:memory:` (also the
 * SQLAlchemy spellings `sqlite://` and `sqlite:///:memory:`), as in SQLAlchemy; relative paths
 * are resolved against `cwd`.
 */
export function parseDatabaseUrl(
  url: string,
  cwd: string,
  postgres: PostgresSettings = POSTGRES_DEFAULTS,
): DatabaseConfig {
  if (/^postgres(?:ql)?:\/\//.test(url)) return { kind: 'postgres', url, ...postgres };
  const rest = url.slice('sqlite://'.length);
  if (rest === '' || rest === ':memory:' || rest === '/:memory:')
    return { kind: 'sqlite', path: ':memory:' };
  if (!rest.startsWith('/') || rest === '/' || rest === '//') {
    throw new ConfigError(
      'DATABASE_URL',
      'DATABASE_URL must name a file: sqlite:///relative/path or sqlite:////absolute/path',
    );
  }
  const path = rest.slice(1);
  return { kind: 'sqlite', path: path.startsWith('/') ? path : resolve(cwd, path) };
}

/** Reads and validates the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(
  environment: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): Config {
  const env: Record<string, string> = {};
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = environment[name];
    if (value !== undefined && value !== '')
      env[name] = name === 'LOG_LEVEL' ? value.toUpperCase() : value;
  }
  if (!validateEnv(env)) {
    const error = validateEnv.errors?.[0];
    const name = error?.instancePath.slice(1) ?? 'environment';
    const expected = (error?.parentSchema as { description?: string } | undefined)?.description;
    throw new ConfigError(name, `${name} is invalid: expected ${expected ?? error?.message}`);
  }
  if (env.WEBHOOK_SECRET_PREVIOUS !== undefined && env.WEBHOOK_SECRET === undefined) {
    throw new ConfigError(
      'WEBHOOK_SECRET_PREVIOUS',
      'WEBHOOK_SECRET_PREVIOUS is set without WEBHOOK_SECRET: set the new secret in WEBHOOK_SECRET',
    );
  }
  if (
    env.STANDARD_WEBHOOKS_SECRET_PREVIOUS !== undefined &&
    env.STANDARD_WEBHOOKS_SECRET === undefined
  ) {
    throw new ConfigError(
      'STANDARD_WEBHOOKS_SECRET_PREVIOUS',
      'STANDARD_WEBHOOKS_SECRET_PREVIOUS is set without STANDARD_WEBHOOKS_SECRET: set the new key in STANDARD_WEBHOOKS_SECRET',
    );
  }
  if (env.WHATSAPP_APP_SECRET_PREVIOUS !== undefined && env.WHATSAPP_APP_SECRET === undefined) {
    throw new ConfigError(
      'WHATSAPP_APP_SECRET_PREVIOUS',
      'WHATSAPP_APP_SECRET_PREVIOUS is set without WHATSAPP_APP_SECRET: set the new secret in WHATSAPP_APP_SECRET',
    );
  }
  return {
    webhookSecret: env.WEBHOOK_SECRET ?? null,
    previousWebhookSecret: env.WEBHOOK_SECRET_PREVIOUS ?? null,
    standardWebhooksSecret: env.STANDARD_WEBHOOKS_SECRET ?? null,
    previousStandardWebhooksSecret: env.STANDARD_WEBHOOKS_SECRET_PREVIOUS ?? null,
    standardWebhooksToleranceSeconds: Number(env.STANDARD_WEBHOOKS_TOLERANCE_S),
    whatsapp: {
      appSecret: env.WHATSAPP_APP_SECRET ?? null,
      previousAppSecret: env.WHATSAPP_APP_SECRET_PREVIOUS ?? null,
      verifyToken: env.WHATSAPP_VERIFY_TOKEN ?? null,
      maxBodyBytes: Number(env.WHATSAPP_MAX_BODY_BYTES),
    },
    readToken: env.READ_TOKEN ?? null,
    adminToken: env.ADMIN_TOKEN ?? null,
    retentionDays: env.RETENTION_DAYS === undefined ? null : Number(env.RETENTION_DAYS),
    retentionIntervalMs: Number(env.RETENTION_INTERVAL_S) * 1000,
    database: parseDatabaseUrl(env.DATABASE_URL, cwd, {
      poolSize: Number(env.DATABASE_POOL_SIZE),
      timeoutMs: Number(env.DATABASE_TIMEOUT_MS),
    }),
    logLevel: LOG_LEVELS[env.LOG_LEVEL] ?? 'info',
    host: env.HOST,
    port: Number(env.PORT),
    maxBodyBytes: Number(env.MAX_BODY_BYTES),
  };
}
