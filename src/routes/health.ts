import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { rejectOtherMethods } from '../http/guards.js';
import { documented } from '../http/openapi.js';
import type { Store } from '../store/store.js';

const Checks = Type.Object(
  { database: Type.String(), schema: Type.String(), secret: Type.String() },
  { description: '"ok" or why the check failed' },
);
const Sources = Type.Record(Type.String(), Type.Boolean(), {
  description: 'which senders are configured: webhook, standard_webhooks, whatsapp',
});
const Healthy = Type.Object({ status: Type.Literal('ok') });
const Ready = Type.Object({
  status: Type.Literal('ok'),
  checks: Type.Optional({ ...Checks, description: 'only with verbose=true' }),
  sources: Type.Optional({ ...Sources, description: 'only with verbose=true' }),
});
const Unhealthy = Type.Object({
  status: Type.Literal('unavailable'),
  checks: Checks,
  sources: Sources,
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
        'Use it to decide whether to send traffic: 503 names each check and why it failed. ' +
        'With verbose=true a 200 also lists the checks and which senders are configured, for ' +
        'people looking at it (the inbox page shows it); the status is the same.',
      querystring: Type.Object({
        verbose: Type.Optional(
          Type.String({ enum: ['true'], description: 'add checks and sources to a 200' }),
        ),
      }),
      response: {
        200: documented(Ready, 'Every check passed', {
          examples: [
            { status: 'ok' },
            {
              status: 'ok',
              checks: { database: 'ok', schema: 'ok', secret: 'ok' },
              sources: { webhook: true, standard_webhooks: false, whatsapp: true },
            },
          ],
        }),
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
    handler: async (request, reply) => {
      const checks = {
        ...(await store.check()),
        secret: secretConfigured ? 'ok' : NO_SECRET,
      };
      if (Object.values(checks).every((check) => check === 'ok')) {
        return request.query.verbose === 'true'
          ? { status: 'ok' as const, checks, sources }
          : { status: 'ok' as const };
      }
      return reply.code(503).send({ status: 'unavailable' as const, checks, sources });
    },
  });

  rejectOtherMethods(app, '/health/live', ['GET']);
  rejectOtherMethods(app, '/health/ready', ['GET']);
};

export default healthRoutes;
