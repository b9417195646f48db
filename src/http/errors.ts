import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import { Type } from 'typebox';
import { StoreUnavailableError } from '../store/store.js';
import { toIssues, type ValidationIssue, type ValidationSource } from '../validation.js';

/**
 * One error envelope for every failure: `{"detail": "<what went wrong>"}`, and for validation
 * failures (422) `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` as FastAPI sends it.
 */

/** Every `detail` string the service sends, named once. */
export const DETAIL = {
  invalidSignature: 'invalid signature',
  missingWebhookId: 'missing webhook-id',
  missingWebhookTimestamp: 'missing webhook-timestamp',
  missingWebhookSignature: 'missing webhook-signature',
  invalidWebhookTimestamp: 'invalid webhook-timestamp: expected unix seconds',
  timestampOutsideTolerance: 'timestamp outside tolerance',
  bodyTooLarge: 'request body too large',
  notJson: 'content type must be application/json',
  compressed: 'content encoding is not supported: send the JSON uncompressed',
  secretNotConfigured: 'webhook secret is not configured',
  appSecretNotConfigured: 'WhatsApp app secret is not configured',
  verifyTokenNotConfigured: 'WhatsApp verify token is not configured',
  verificationFailed: 'verification failed',
  unavailable: 'database unavailable, retry later',
  readToken: 'missing or invalid bearer token',
  notFound: 'Not Found',
  messageNotFound: 'message not found',
  adminDisabled: 'erasure is disabled: ADMIN_TOKEN is not set',
  adminTokenMissing: 'missing bearer token',
  adminTokenWrong: 'invalid bearer token',
  methodNotAllowed: 'Method Not Allowed',
  missingHost: 'missing Host header',
  malformed: 'malformed HTTP request',
  malformedPath: 'malformed path: invalid percent-encoding',
  requestTimeout: 'request not received in time',
  headersTooLarge: 'request headers too large',
  internal: 'internal server error',
} as const;

export const ErrorBody = Type.Object(
  { detail: Type.String() },
  { description: 'what went wrong', examples: [{ detail: DETAIL.invalidSignature }] },
);

export const ValidationErrorBody = Type.Object(
  {
    detail: Type.Array(
      Type.Object({
        loc: Type.Array(Type.Union([Type.String(), Type.Integer()]), {
          description: 'where: ["body"], ["body", field] or ["query", parameter]',
        }),
        msg: Type.String(),
        type: Type.String(),
      }),
    ),
  },
  { description: 'one entry per problem' },
);

/** An error whose status and message the client should see. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string | ValidationIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : 'validation failed');
    this.name = 'HttpError';
  }
}

export function validationError(issues: ValidationIssue[]): HttpError {
  return new HttpError(422, issues);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** a short description of the failure behind a 5xx, for the request's log line */
    failure: string | null;
  }
}

const SOURCE: Record<string, ValidationSource> = { body: 'body', querystring: 'query' };

/** Maps any error to the envelope; errors the service understands never become a 500. */
function toHttpError(error: FastifyError | Error): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof StoreUnavailableError) {
    return new HttpError(503, DETAIL.unavailable, { 'retry-after': '1' });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const source = SOURCE[fastifyError.validationContext ?? ''] ?? 'body';
    return validationError(toIssues(source, fastifyError.validation as never));
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, DETAIL.bodyTooLarge);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, DETAIL.notJson);
  }
  const status = fastifyError.statusCode ?? 500;
  return status >= 400 && status < 500
    ? new HttpError(status, error.message)
    : new HttpError(500, DETAIL.internal);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.decorateRequest('failure', null);

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const http = toHttpError(error);
    if (http.statusCode >= 500) request.failure = `${error.name}: ${error.message}`;
    return reply.code(http.statusCode).headers(http.headers).send({ detail: http.detail });
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: DETAIL.notFound }));
}

/**
 * For errors the router meets before any route runs (a path segment that is not valid
 * percent-encoding): the envelope instead of Fastify's default body. Pass as `frameworkErrors`.
 */
export function frameworkErrors(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const http =
    error.code === 'FST_ERR_BAD_URL'
      ? new HttpError(400, DETAIL.malformedPath)
      : toHttpError(error);
  reply.code(http.statusCode).headers(http.headers).send({ detail: http.detail });
}

/**
 * For requests Node's HTTP parser rejects before Fastify sees them (malformed, headers too large,
 * too slow): the same envelope, and a log line, instead of Fastify's default body.
 */
export function clientErrorHandler(logger: FastifyBaseLogger) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, detail] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, DETAIL.requestTimeout]
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, DETAIL.headersTooLarge]
          : [400, DETAIL.malformed];
    logger.info({ status, error: error.code }, 'client error');
    if (socket.writable) {
      const body = JSON.stringify({ detail });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
