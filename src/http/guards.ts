import type { FastifyInstance } from 'fastify';
import { DETAIL } from './errors.js';

/**
 * HTTP/1.1 requests must name a Host (RFC 9112): a 400 in the envelope, with its log line, for
 * one that does not. Register after the request id is set, so that the answer carries it.
 */
export function requireHost(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return reply.code(400).send({ detail: DETAIL.missingHost });
    }
  });
}

const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const;

/**
 * Answers 405 (with an `Allow` header) for the methods a path does not serve, before the body
 * is read, instead of Fastify's 404.
 */
export function rejectOtherMethods(
  app: FastifyInstance,
  url: string,
  allowed: readonly string[],
): void {
  const allow =
    allowed.includes('GET') && !allowed.includes('HEAD') ? [...allowed, 'HEAD'] : allowed;
  app.route({
    method: METHODS.filter((method) => !allow.includes(method)),
    url,
    exposeHeadRoute: false,
    schema: { hide: true },
    onRequest: async (_request, reply) =>
      reply.code(405).header('allow', allow.join(', ')).send({ detail: DETAIL.methodNotAllowed }),
    handler: async () => undefined,
  });
}

/** Whether a Content-Type header names JSON (`application/json`, parameters such as charset aside). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const end = header.indexOf(';');
  return (end === -1 ? header : header.slice(0, end)).trim().toLowerCase() === 'application/json';
}
