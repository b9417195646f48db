import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { rejectOtherMethods } from '../http/guards.js';
import { documented } from '../http/openapi.js';
import type { Store } from '../store/store.js';

const Checks = Type.Object(
  { database: Type.String(), schema: Type.String(), secret: Type.String() },
  { description: '"ok" or why the check failed' },
);
const Senders = Type.Record(Type.String(), Type.Boolean(), {
  description: 'only with verbose=true: each kind of sender, and whether it is configured',
});
const Healthy = Type.Object({ status: Type.Literal('ok') });
const Ready = Type.Object({
  status: Type.Literal('ok'),
  checks: Type.Optional({ ...Checks, description: 'only with verbose=true' }),
  senders: Type.Optional(Senders),
});
const Unhealthy = Type.Object({
  status: Type.Literal('unavailable'),
  checks: Checks,
  senders: Type.Optional(Senders),
});

export interface HealthOptions {
  store: Store;
  /** WEBHOOK_SECRET or STANDARD_WEBHOOKS_SECRET is set: some signed webhook can be accepted */
  secretConfigured: boolean;
  /** what GET /health/ready?verbose=true lists: each kind of sender, and whether it is set up */
  senders?: Record<string, boolean>;
}

const NO_SECRET = 'neither WEBHOOK_SECRET nor STANDARD_WEBHOOKS_SECRET is set';

const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (
  app,
  { store, secretConfigured, senders = {} },
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
        'With verbose=true the answer (same status) also lists the checks and which senders ' +
        'are configured, for people looking at it (the inbox page shows it).',
      querystring: Type.Object({
        verbose: Type.Optional(
          Type.String({ enum: ['true'], description: 'add checks and senders to the answer' }),
        ),
      }),
      response: {
        200: documented(Ready, 'Every check passed', {
          examples: [
            { status: 'ok' },
            {
              status: 'ok',
              checks: { database: 'ok', schema: 'ok', secret: 'ok' },
              senders: { webhook: true, standard_webhooks: false },
            },
          ],
        }),
        503: documented(Unhealthy, 'A check failed: each check is "ok" or says why it failed', {
          examples: [
            {
              status: 'unavailable',
              checks: { database: 'ok', schema: 'ok', secret: NO_SECRET },
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
      const verbose = request.query.verbose === 'true' ? { senders } : {};
      if (Object.values(checks).every((check) => check === 'ok')) {
        return request.query.verbose === 'true'
          ? { status: 'ok' as const, checks, ...verbose }
          : { status: 'ok' as const };
      }
      return reply.code(503).send({ status: 'unavailable' as const, checks, ...verbose });
    },
  });

  rejectOtherMethods(app, '/health/live', ['GET']);
  rejectOtherMethods(app, '/health/ready', ['GET']);
};

export default healthRoutes;
