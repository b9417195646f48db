import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { DETAIL, HttpError } from './errors.js';
import { errorResponse } from './openapi.js';

/**
 * READ_TOKEN: when it is set, the routes that read stored messages (GET /messages, GET /stats)
 * require `Authorization: Bearer <token>`. Both sides are hashed before the comparison, so it
 * takes the same time whatever the given token's length or content.
 */

const BEARER = /^Bearer +([^\s]+) *$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** How the 401 is documented in OpenAPI. */
export const READ_TOKEN_401 = errorResponse(
  'Only when READ_TOKEN is set: the request lacks `Authorization: Bearer <READ_TOKEN>`',
  [DETAIL.readToken],
);

/** The onRequest hook that checks the token, or none when no token is configured. */
export function requireReadToken(
  token: string | null,
): ((request: FastifyRequest) => Promise<void>) | undefined {
  if (token === null) return undefined;
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.authorization;
    const given = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    const valid = timingSafeEqual(digest(given ?? ''), expected);
    if (given === undefined || !valid) {
      throw new HttpError(401, DETAIL.readToken, { 'www-authenticate': 'Bearer' });
    }
  };
}
