import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SignatureScheme } from '../standard-webhooks.js';

/** Label value shared by every request that matches no route, so random URLs add no series. */
export const UNMATCHED_PATH = 'unmatched';

export const WEBHOOK_RESULTS = [
  'created',
  'duplicate',
  'invalid_signature',
  'validation_error',
  'payload_too_large',
  'unsupported_media_type',
  'method_not_allowed',
  'not_configured',
  'unavailable',
  'error',
] as const;

export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

export const SIGNATURE_SCHEMES: readonly SignatureScheme[] = ['x-signature', 'standard-webhooks'];

export interface Metrics {
  registry: Registry;
  observeRequest(path: string, status: number, seconds: number): void;
  countWebhook(result: WebhookResult): void;
  /** A POST /webhook request whose signature verified, by the scheme that verified it. */
  countSignatureScheme(scheme: SignatureScheme): void;
  /** Reports `backlog()` as search_index_backlog_messages at every scrape. */
  watchSearchBacklog(backlog: () => number): void;
}

/** A registry of its own per app, so that several apps in one process never share counters. */
export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // gauges named like counters, which `promtool check metrics` rejects; the same figures stay
    // available by type as nodejs_active_handles, nodejs_active_requests, nodejs_active_resources
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      registry.removeSingleMetric(name);
    }
  }

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template and status code',
    labelNames: ['path', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response, by route template',
    labelNames: ['path'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'webhook_requests_total',
    help: 'POST /webhook outcomes',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of WEBHOOK_RESULTS) webhooks.labels(result).inc(0);
  const schemes = new Counter({
    name: 'webhook_signature_scheme_total',
    help: 'POST /webhook requests whose signature verified, by signature scheme',
    labelNames: ['scheme'] as const,
    registers: [registry],
  });
  for (const scheme of SIGNATURE_SCHEMES) schemes.labels(scheme).inc(0);
  let searchBacklog = () => 0;
  new Gauge({
    name: 'search_index_backlog_messages',
    help: 'Stored messages not yet in the search index (searches check them one by one)',
    registers: [registry],
    collect() {
      this.set(searchBacklog());
    },
  });

  return {
    registry,
    observeRequest(path, status, seconds) {
      requests.labels(path, String(status)).inc();
      duration.labels(path).observe(seconds);
    },
    countWebhook(result) {
      webhooks.labels(result).inc();
    },
    countSignatureScheme(scheme) {
      schemes.labels(scheme).inc();
    },
    watchSearchBacklog(backlog) {
      searchBacklog = backlog;
    },
  };
}
