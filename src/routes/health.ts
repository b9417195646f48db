import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { rejectOtherMethods } from '../http/guards.js';
import { documented } from '../http/openapi.js';
import type { Store } from '../store/store.js';

const Healthy = Type.Object({ status: Type.Literal('ok') });
const Unhealthy = Type.Object({
  status: Type.Literal('unavailable'),
  checks: Type.Object(
    { database: Type.String(), schema: Type.String(), secret: Type.String() },
    { description: '"ok" or why the check failed' },
  ),
  sources: Type.Record(Type.String(), Type.Boolean(), {
    description: 'which senders are configured: webhook, standard_webhooks, whatsapp',
  }),
});

export interface HealthOptions {
  store: Store;
  /** WEBHOOK_SECRET or STANDARD_WEBHOOKS_SECRET is set: some signed webhook can be accepted */
  secretConfigured: boolean;
  /** which senders are configured, shown when not ready */
  sources?: Record<string, boolean>;
}

const NO_SECRET = 'neither WEBHOOK_SECRET nor STANDARD_WEBHOOKS_SECRET is set';

const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (
  app,
  { store, secretConfigured, sources = {} },
) => {
  app.get('/health/live', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness: 200 while the process serves HTTP',
      description: 'Checks nothing else: use it to restart a process that stopped answering.',
      response: {
        200: documented(Healthy, 'The process serves HTTP', { examples: [{ status: 'ok' }] }),
      },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/health/ready', {
    schema: {
      tags: ['operations'],
      summary:
        'Readiness: 200 when the database answers, its schema is applied and a secret is set',
      description:
        'Use it to decide whether to send traffic: 503 names each check and why it failed.',
      response: {
        200: documented(Healthy, 'Every check passed', { examples: [{ status: 'ok' }] }),
        503: documented(Unhealthy, 'A check failed: each check is "ok" or says why it failed', {
          examples: [
            {
              status: 'unavailable',
              checks: { database: 'ok', schema: 'ok', secret: NO_SECRET },
              sources: { webhook: false, standard_webhooks: false, whatsapp: true },
            },
          ],
        }),
      },
    },
    handler: async (_request, reply) => {
      const checks = {
        ...(await store.check()),
        secret: secretConfigured ? 'ok' : NO_SECRET,
      };
      if (Object.values(checks).every((check) => check === 'ok')) return { status: 'ok' as const };
      return reply.code(503).send({ status: 'unavailable' as const, checks, sources });
    },
  });

  rejectOtherMethods(app, '/health/live', ['GET']);
  rejectOtherMethods(app, '/health/ready', ['GET']);
};

export default healthRoutes;
