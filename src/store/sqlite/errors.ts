import { StoreUnavailableError } from '../store.js';

/**
 * SQLite result codes that mean "the database cannot serve this now": locked, read-only, full,
 * I/O failure, unopenable. Anything else is a bug and surfaces as a 500.
 */
const UNAVAILABLE =
  /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;

/** StoreUnavailableError for a failure the client may retry; anything else unchanged. */
export function classify(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE.test(code)) {
    return new StoreUnavailableError(`${code}: ${(error as Error).message}`, { cause: error });
  }
  return error;
}
