import type { FastifyPluginAsync } from 'fastify';
import { rejectOtherMethods } from '../errors.js';
import type { Metrics } from '../metrics.js';

export interface MetricsOptions {
  metrics: Metrics;
}

const metricsRoutes: FastifyPluginAsync<MetricsOptions> = async (app, { metrics }) => {
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (text exposition format)',
      produces: ['text/plain'],
    },
    handler: async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  });
  rejectOtherMethods(app, '/metrics', ['GET']);
};

export default metricsRoutes;
