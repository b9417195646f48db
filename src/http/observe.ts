import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { SignatureScheme } from '../standard-webhooks.js';
import { type Metrics, UNMATCHED_PATH, type WebhookResult } from './metrics.js';

/**
 * Request ids, the one log line per request, and the HTTP metrics, all in one place.
 *
 * The log line carries ts, level, request_id, method, path, status and latency_ms; a webhook
 * line adds message_id (once the body was parsed), dup, result and, once the signature verified,
 * scheme. It never carries headers, bodies or query strings, so secrets, signatures and message
 * text cannot reach it.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** set by the webhook route: what became of this delivery */
    webhook: WebhookOutcome | null;
    /** set by the WhatsApp route: fields of the request's log line (counts and outcome) */
    logFields: Record<string, unknown> | null;
  }
}

export interface WebhookOutcome {
  result: WebhookResult;
  dup: boolean;
  message_id?: string;
  /** the signature scheme that verified the request, when one did */
  scheme?: SignatureScheme;
}

/** An incoming X-Request-ID that is reused as this request's id; any other is replaced. */
export const REQUEST_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';
const REQUEST_ID = new RegExp(REQUEST_ID_PATTERN);

/** Reuses a well-formed incoming X-Request-ID, otherwise makes a new one (a UUID). */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function registerObservation(app: FastifyInstance, metrics: Metrics): void {
  app.decorateRequest('webhook', null);
  app.decorateRequest('logFields', null);

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const latencyMs = reply.elapsedTime;
    const route = request.is404 ? UNMATCHED_PATH : (request.routeOptions.url ?? UNMATCHED_PATH);
    metrics.observeRequest(route, status, latencyMs / 1000);

    const line: Record<string, unknown> = {
      method: request.method,
      path: pathOf(request.url),
      status,
      latency_ms: Math.round(latencyMs * 1000) / 1000,
    };
    if (request.webhook !== null) {
      metrics.countWebhook(request.webhook.result);
      if (request.webhook.result === 'created') metrics.countStored('message', 'webhook', 1);
      if (request.webhook.scheme !== undefined)
        metrics.countSignatureScheme(request.webhook.scheme);
      Object.assign(line, request.webhook);
    }
    if (request.logFields !== null) Object.assign(line, request.logFields);
    if (request.failure !== null) line.error = request.failure;
    if (status === 401 || status >= 500) request.log.error(line, 'request');
    else request.log.info(line, 'request');
    done();
  });
}
