import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { rejectOtherMethods } from '../errors.js';
import type { Store } from '../store/store.js';

const Healthy = Type.Object({ status: Type.Literal('ok') });
const Unhealthy = Type.Object({
  status: Type.Literal('unavailable'),
  checks: Type.Object(
    { database: Type.String(), schema: Type.String(), secret: Type.String() },
    { description: '"ok" or why the check failed' },
  ),
});

export interface HealthOptions {
  store: Store;
  secretConfigured: boolean;
}

const healthRoutes: FastifyPluginAsync<HealthOptions> = async (
  app,
  { store, secretConfigured },
) => {
  app.get('/health/live', {
    schema: { summary: 'Liveness: 200 while the process serves HTTP', response: { 200: Healthy } },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/health/ready', {
    schema: {
      summary:
        'Readiness: 200 when the database answers, its schema is applied and a secret is set',
      response: { 200: Healthy, 503: Unhealthy },
    },
    handler: async (_request, reply) => {
      const checks = {
        ...(await store.check()),
        secret: secretConfigured ? 'ok' : 'WEBHOOK_SECRET is not set',
      };
      if (Object.values(checks).every((check) => check === 'ok')) return { status: 'ok' as const };
      return reply.code(503).send({ status: 'unavailable' as const, checks });
    },
  });

  rejectOtherMethods(app, '/health/live', ['GET']);
  rejectOtherMethods(app, '/health/ready', ['GET']);
};

export default healthRoutes;
