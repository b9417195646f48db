import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { DETAIL, HttpError } from './errors.js';
import { errorResponse } from './openapi.js';

/**
 * ADMIN_TOKEN guards erasure. Unset: erasure is off (403 for every request). Set: the request
 * needs `Authorization: Bearer <token>`; none (or not a bearer token) is a 401, another token a
 * 403. Both sides are hashed before a constant-time comparison, so the time taken says nothing
 * about the token's length or content. The header is never logged.
 */

const BEARER = /^Bearer +([^\s]+) *$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export const ADMIN_401 = errorResponse('No `Authorization: Bearer <ADMIN_TOKEN>` header', [
  DETAIL.adminTokenMissing,
]);
export const ADMIN_403 = errorResponse(
  'ADMIN_TOKEN is not set (erasure is off), or the bearer token is not ADMIN_TOKEN',
  [DETAIL.adminDisabled, DETAIL.adminTokenWrong],
);

/** The onRequest hook of the erasure routes. */
export function requireAdminToken(
  token: string | null,
): (request: FastifyRequest) => Promise<void> {
  const expected = token === null ? null : digest(token);
  return async (request) => {
    if (expected === null) throw new HttpError(403, DETAIL.adminDisabled);
    const header = request.headers.authorization;
    const given = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (given === undefined) {
      throw new HttpError(401, DETAIL.adminTokenMissing, { 'www-authenticate': 'Bearer' });
    }
    if (!timingSafeEqual(digest(given), expected)) throw new HttpError(403, DETAIL.adminTokenWrong);
  };
}
