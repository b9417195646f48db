import { STATUS_CODES } from 'node:http';
import swagger, { type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { TSchema } from 'typebox';
import { DETAIL, ErrorBody } from './errors.js';
import { REQUEST_ID_PATTERN } from './observe.js';

/**
 * OpenAPI 3.1 built from the route schemas: the UI at /docs, the document at /docs/json.
 * Registered before the routes so that it sees them all.
 *
 * The routes describe themselves (summary, tags, one documented schema per status, see
 * `documented` and `errorResponse`); this file adds what holds for every route: the
 * X-Request-ID header on every response, and the 405 that every path gives the methods it
 * does not serve.
 */

const DESCRIPTION = `Receives HMAC-signed message webhooks, stores each message exactly once, and serves
listing, search, statistics, health probes and Prometheus metrics.

**Signing.** \`POST /webhook\` needs the header \`X-Signature\`: the hex HMAC-SHA256 of the exact
bytes of the request body, keyed with the service's \`WEBHOOK_SECRET\` (hex in either case,
optionally written \`sha256=<hex>\`). Sign what you send, byte for byte:

    SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
    curl -X POST http://localhost:8000/webhook -H 'Content-Type: application/json' \\
      -H "X-Signature: $SIG" --data-binary "$BODY"

The checks run in this order: size (413), content type (415), secret configured (503),
signature (401), body (422).

**Standard Webhooks.** When the service has \`STANDARD_WEBHOOKS_SECRET\` (a \`whsec_\` key), a
request carrying a \`webhook-signature\` header is verified by that scheme instead
(standardwebhooks.com, v1), as the official libraries sign: \`webhook-id\`,
\`webhook-timestamp\` (unix seconds, at most \`STANDARD_WEBHOOKS_TOLERANCE_S\`, 300 by default,
from now) and \`webhook-signature\` (space-separated \`v1,<base64>\` entries) are required, and
\`X-Signature\` is ignored. Each failure is a 401 whose \`detail\` names the cause.

**Errors.** Every error has the body \`{"detail": "<what went wrong>"}\`; a 422 lists one
\`{"loc", "msg", "type"}\` per problem, as FastAPI does. An unknown path gets 404, another method
on a known path 405 with an \`Allow\` header; a request the HTTP parser rejects gets 400, 408
(not sent within 10 s) or 431; an unexpected failure 500.

**Request ids.** Every response carries \`X-Request-ID\`. A well-formed incoming one (1 to 128
characters from \`[A-Za-z0-9._:-]\`) is reused, so that a request can be followed into the logs.`;

const TAGS = [
  { name: 'webhook', description: 'Receiving signed messages' },
  { name: 'whatsapp', description: 'Receiving from the WhatsApp Cloud API' },
  { name: 'messages', description: 'Reading what was stored' },
  { name: 'erasure', description: 'Erasing messages on request (ADMIN_TOKEN)' },
  { name: 'operations', description: 'Health probes and metrics' },
  {
    name: 'other methods',
    description:
      'Every method a path does not serve is answered 405, with an Allow header naming those it does',
  },
];

/** Tags for routes whose schema names none, by path. */
const TAG_BY_PATH: Record<string, string> = { '/messages': 'messages', '/stats': 'messages' };

const REQUEST_ID = 'X-Request-ID';
const METHOD_NOT_ALLOWED = 'MethodNotAllowed';
const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

/** The headers a response may name: a description and the schema of the value. */
export type ResponseHeaders = Record<string, { description: string } & Record<string, unknown>>;

/**
 * A response schema carrying what OpenAPI shows for its status: a description, examples of the
 * body and, when given, response headers. Serialisation ignores all three.
 */
export function documented<T extends TSchema>(
  schema: T,
  description: string,
  options: { examples?: unknown[]; headers?: ResponseHeaders } = {},
): T {
  return { ...schema, description, ...options };
}

/** `{"detail": "..."}` documented for one status, with every detail it can carry. */
export function errorResponse(
  description: string,
  details: string[],
  headers?: ResponseHeaders,
): typeof ErrorBody {
  return documented(ErrorBody, description, {
    examples: details.map((detail) => ({ detail })),
    ...(headers === undefined ? {} : { headers }),
  });
}

/** `Retry-After`, sent with a 503 whose cause is passing (the database). */
export const RETRY_AFTER: ResponseHeaders = {
  'Retry-After': {
    type: 'integer',
    description:
      'seconds to wait before retrying (1); sent when the database could not answer, not when no secret is configured',
  },
};

/** The 503 of a route that reads the database. */
export const READ_UNAVAILABLE = errorResponse(
  'The database cannot answer: retry later',
  [DETAIL.unavailable],
  RETRY_AFTER,
);

interface Operation {
  responses?: Record<
    string,
    { $ref?: string; description?: string; headers?: Record<string, unknown> }
  >;
  [key: string]: unknown;
}
type PathItem = Partial<Record<(typeof OPERATION_METHODS)[number], Operation>>;
interface Document {
  paths?: Record<string, PathItem>;
  components?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** Adds what holds for every route to the generated document. */
export function completeDocument(document: Document): Document {
  const components = document.components ?? {};
  components.headers = {
    ...components.headers,
    [REQUEST_ID]: {
      description:
        'the id of this request, as in its log line: the incoming X-Request-ID when it is 1 to 128 characters from [A-Za-z0-9._:-], otherwise a new UUID',
      schema: { type: 'string', pattern: REQUEST_ID_PATTERN },
    },
  };
  components.responses = {
    ...components.responses,
    [METHOD_NOT_ALLOWED]: {
      description: 'This path does not serve the method; Allow names the methods it does serve',
      headers: {
        Allow: {
          description: 'the methods this path serves, such as "POST" or "GET, HEAD"',
          schema: { type: 'string' },
        },
        [REQUEST_ID]: { $ref: `#/components/headers/${REQUEST_ID}` },
      },
      content: {
        'application/json': {
          schema: documented(ErrorBody, 'the error envelope'),
          example: { detail: DETAIL.methodNotAllowed },
        },
      },
    },
  };
  document.components = components;

  for (const item of Object.values(document.paths ?? {})) {
    const served = OPERATION_METHODS.filter((method) => item[method] !== undefined);
    for (const method of served) {
      for (const [status, response] of Object.entries(item[method]?.responses ?? {})) {
        if (response.$ref !== undefined) continue;
        // a route that documents no description for a status gets the HTTP reason phrase
        if (response.description === 'Default Response')
          response.description = STATUS_CODES[status] ?? response.description;
        response.headers = {
          [REQUEST_ID]: { $ref: `#/components/headers/${REQUEST_ID}` },
          ...response.headers,
        };
      }
    }
    // the app answers 405 for every other method on a path it serves (HEAD comes with GET)
    const allowed = new Set<string>(served.includes('get') ? [...served, 'head'] : served);
    for (const method of OPERATION_METHODS) {
      if (allowed.has(method)) continue;
      item[method] = {
        tags: ['other methods'],
        summary: `Not allowed: ${method.toUpperCase()} is answered 405`,
        responses: { '405': { $ref: `#/components/responses/${METHOD_NOT_ALLOWED}` } },
      };
    }
  }
  return document;
}

export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Webhook receiver',
        version: '0.1.0',
        description: DESCRIPTION,
      },
      servers: [{ url: '/', description: 'the service that serves this document' }],
      tags: TAGS,
    },
    transform: ({ schema, url }) => {
      const own = schema as (FastifySchema & { tags?: string[]; hide?: boolean }) | undefined;
      if (own === undefined || own.hide === true || own.tags !== undefined) return { schema, url };
      const tag = TAG_BY_PATH[url] ?? url.split('/')[1] ?? 'other';
      return { schema: { ...own, tags: [tag] } as FastifySchema, url };
    },
    transformObject: (documentObject) => {
      // this app only builds OpenAPI 3 documents, never Swagger 2
      const document = (documentObject as { openapiObject: Document }).openapiObject;
      return completeDocument(document) as ReturnType<SwaggerTransformObject>;
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, defaultModelsExpandDepth: -1 },
  });
}
