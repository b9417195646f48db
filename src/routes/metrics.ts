import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { rejectOtherMethods } from '../http/guards.js';
import type { Metrics } from '../http/metrics.js';

export interface MetricsOptions {
  metrics: Metrics;
}

const metricsRoutes: FastifyPluginAsyncTypebox<MetricsOptions> = async (app, { metrics }) => {
  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics (text exposition format)',
      description:
        'http_requests_total{path, status}, http_request_duration_seconds{path} (histogram), ' +
        'webhook_requests_total{result} and the standard Node.js process metrics. path is the ' +
        'route template; every request that matches no route counts as path="unmatched".',
      produces: [metrics.registry.contentType],
      response: {
        200: Type.String({
          description: 'The metrics in the Prometheus text exposition format, version 0.0.4',
          examples: ['# HELP webhook_requests_total POST /webhook outcomes\n'],
        }),
      },
    },
    handler: async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  });
  rejectOtherMethods(app, '/metrics', ['GET']);
};

export default metricsRoutes;
