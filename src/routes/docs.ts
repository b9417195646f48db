import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * OpenAPI 3.1 built from the route schemas: the UI at /docs, the document at /docs/json.
 * Registered before the routes so that it sees them all.
 */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Webhook receiver',
        version: '0.1.0',
        description:
          'Receives HMAC-signed message webhooks, stores each message exactly once, and serves ' +
          'listing, search, statistics, health probes and Prometheus metrics.',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
