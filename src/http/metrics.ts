import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SignatureScheme } from '../standard-webhooks.js';
import { createKeepingMetrics, type KeepingMetrics } from './keeping-metrics.js';

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

/** Outcomes of POST /webhooks/whatsapp (label values of whatsapp_deliveries_total). */
export const WHATSAPP_RESULTS = [
  'stored',
  'duplicate',
  'ignored',
  'invalid_signature',
  'validation_error',
  'payload_too_large',
  'unsupported_media_type',
  'method_not_allowed',
  'not_configured',
  'unavailable',
  'error',
] as const;

export type WhatsappResult = (typeof WHATSAPP_RESULTS)[number];

/** The result both webhook routes count for each refusal status (anything else is `error`). */
export const REFUSAL_RESULTS: Record<number, WebhookResult & WhatsappResult> = {
  401: 'invalid_signature',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_error',
  503: 'unavailable',
};

/** WhatsApp message types counted by name; any other type is counted as `other`. */
export const WHATSAPP_TYPES = [
  'text',
  'image',
  'video',
  'document',
  'audio',
  'sticker',
  'reaction',
  'interactive',
  'button',
  'location',
  'contacts',
  'system',
  'order',
  'unsupported',
  'other',
] as const;

export type StoredKind = 'message' | 'status';

export const SIGNATURE_SCHEMES: readonly SignatureScheme[] = ['x-signature', 'standard-webhooks'];

export interface Metrics {
  registry: Registry;
  observeRequest(path: string, status: number, seconds: number): void;
  countWebhook(result: WebhookResult): void;
  /** A POST /webhook request whose signature verified, by the scheme that verified it. */
  countSignatureScheme(scheme: SignatureScheme): void;
  countWhatsappDelivery(result: WhatsappResult): void;
  /** Items newly stored, by kind and source. */
  countStored(kind: StoredKind, source: 'webhook' | 'whatsapp', count: number): void;
  /** Messages of accepted WhatsApp deliveries, by type (redeliveries included). */
  countWhatsappType(type: string | null, count: number): void;
  /** Changes of another field than `messages`: answered, not stored. */
  countIgnoredChanges(count: number): void;
  /** Reports `backlog()` as search_index_backlog_messages at every scrape. */
  watchSearchBacklog(backlog: () => number): void;
  /** erasure and retention */
  keeping: KeepingMetrics;
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
  const deliveries = new Counter({
    name: 'whatsapp_deliveries_total',
    help: 'POST /webhooks/whatsapp outcomes (stored: something new was stored)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of WHATSAPP_RESULTS) deliveries.labels(result).inc(0);
  const stored = new Counter({
    name: 'stored_items_total',
    help: 'Messages and delivery statuses newly stored, by kind and source',
    labelNames: ['kind', 'source'] as const,
    registers: [registry],
  });
  for (const [kind, source] of [
    ['message', 'webhook'],
    ['message', 'whatsapp'],
    ['status', 'whatsapp'],
  ] as const) {
    stored.labels(kind, source).inc(0);
  }
  const types = new Counter({
    name: 'whatsapp_messages_total',
    help: 'Messages in accepted WhatsApp deliveries (redeliveries included), by type; types outside a fixed list count as other',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  for (const type of WHATSAPP_TYPES) types.labels(type).inc(0);
  const known = new Set<string>(WHATSAPP_TYPES);
  const ignored = new Counter({
    name: 'whatsapp_ignored_changes_total',
    help: 'Changes of another field than messages in WhatsApp deliveries: answered 200, not stored',
    registers: [registry],
  });
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
    keeping: createKeepingMetrics(registry),
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
    countWhatsappDelivery(result) {
      deliveries.labels(result).inc();
    },
    countStored(kind, source, count) {
      if (count > 0) stored.labels(kind, source).inc(count);
    },
    countWhatsappType(type, count) {
      types.labels(type !== null && known.has(type) ? type : 'other').inc(count);
    },
    countIgnoredChanges(count) {
      if (count > 0) ignored.inc(count);
    },
    watchSearchBacklog(backlog) {
      searchBacklog = backlog;
    },
  };
}
