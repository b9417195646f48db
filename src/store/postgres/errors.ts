import { StoreUnavailableError } from '../store.js';

/**
 * Which PostgreSQL failures mean "the database cannot serve this now" (a 503 the client may
 * retry) and which are bugs (a 500). Node's socket errors and pg's own connection messages carry
 * no SQLSTATE; server errors do.
 */

/** Socket and name-resolution failures: the server is down, restarting, or unreachable. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** pg's messages for a lost, timed-out or closed connection or pool. */
const CONNECTION_MESSAGE =
  /^(?:Connection terminated|timeout exceeded when trying to connect|timeout expired|Query read timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/;

/**
 * SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, out of memory,
 * too many connections), 57 operator intervention (admin shutdown, statement timeout, query
 * cancelled, starting up), 58 system error (I/O).
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58']);

/**
 * Single SQLSTATEs: lock not available (lock_timeout), serialization failure, deadlock, read-only
 * transaction (a standby after a failover), database does not exist (not created yet, or being
 * restored), and authentication failures (28000, 28P01): a password being rotated or a pg_hba
 * change is an operational state that can be fixed without restarting the service, so it is
 * reported as unavailable and by /health/ready rather than crashing or answering 500.
 */
const UNAVAILABLE_STATES = new Set(['55P03', '40001', '40P01', '25006', '3D000', '28000', '28P01']);

/** Failures of a connection that was fine when taken from the pool: one retry is worth it. */
const STALE_STATES = new Set(['57P01', '57P02', '40001', '40P01']);
const STALE_MESSAGE =
  /^(?:Connection terminated unexpectedly|Client has encountered a connection error)/;

interface PgLikeError {
  code?: unknown;
  severity?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** The SQLSTATE of a server error (only those carry a severity), or undefined. */
function sqlState(error: PgLikeError): string | undefined {
  return typeof error.severity === 'string' && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** The errors to judge: an AggregateError (several addresses tried) counts by its parts. */
function parts(error: unknown): PgLikeError[] {
  if (typeof error !== 'object' || error === null) return [];
  const inner = (error as PgLikeError).errors;
  return Array.isArray(inner) && inner.length > 0
    ? [error as PgLikeError, ...(inner as PgLikeError[])]
    : [error as PgLikeError];
}

function isUnavailablePart(error: PgLikeError): boolean {
  const state = sqlState(error);
  if (state !== undefined) {
    return UNAVAILABLE_CLASSES.has(state.slice(0, 2)) || UNAVAILABLE_STATES.has(state);
  }
  if (typeof error.code === 'string' && SOCKET_CODES.has(error.code)) return true;
  return typeof error.message === 'string' && CONNECTION_MESSAGE.test(error.message);
}

export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  return parts(error).some(isUnavailablePart);
}

/** Whether the failure is one that an immediate second attempt on a new connection may avoid. */
export function isStale(error: unknown): boolean {
  return parts(error).some((part) => {
    const state = sqlState(part);
    if (state !== undefined) return STALE_STATES.has(state) || state.startsWith('08');
    if (part.code === 'ECONNRESET' || part.code === 'EPIPE') return true;
    return typeof part.message === 'string' && STALE_MESSAGE.test(part.message);
  });
}

/** A short description for health checks and logs: SQLSTATE or socket code, and the message. */
export function describeError(error: unknown): string {
  const all = parts(error);
  const messages = all
    .map((part) => (typeof part.message === 'string' ? part.message : ''))
    .filter((message) => message !== '');
  const first = all[0];
  const code = first === undefined ? undefined : (sqlState(first) ?? first.code);
  const text = [...new Set(messages)].join('; ') || String(error);
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}

/** StoreUnavailableError for a failure the client may retry; anything else unchanged. */
export function classify(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isUnavailable(error)) return error;
  return new StoreUnavailableError(`PostgreSQL: ${describeError(error)}`, { cause: error });
}
