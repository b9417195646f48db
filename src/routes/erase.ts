import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ADMIN_401, ADMIN_403, requireAdminToken } from '../http/admin-token.js';
import { DETAIL, HttpError, ValidationErrorBody } from '../http/errors.js';
import type { KeepingMetrics } from '../http/keeping-metrics.js';
import { documented, errorResponse, READ_UNAVAILABLE } from '../http/openapi.js';
import { E164_PATTERN } from '../message.js';
import type { Store } from '../store/store.js';
import { normaliseQuery } from './messages.js';

/**
 * Erasure (a data subject's request): DELETE /messages?from=<E.164> erases every message of a
 * sender, DELETE /messages/{message_id} one message. Each erased id keeps a tombstone (the id
 * alone), so that a redelivery of it is acknowledged and stores nothing. ADMIN_TOKEN guards both.
 */

const Deleted = documented(
  Type.Object({ deleted: Type.Integer({ description: 'messages erased' }) }),
  'Erased',
  { examples: [{ deleted: 3 }] },
);

export interface EraseOptions {
  store: Store;
  /** ADMIN_TOKEN, or null: erasure is then off */
  adminToken: string | null;
  metrics: KeepingMetrics;
}

const eraseRoutes: FastifyPluginAsyncTypebox<EraseOptions> = async (
  app,
  { store, adminToken, metrics },
) => {
  const onRequest = requireAdminToken(adminToken);
  app.delete('/messages', {
    onRequest,
    schema: {
      tags: ['erasure'],
      summary: "Erase a sender's messages",
      description:
        'Every message whose from is this number, with its share of every total; each id keeps ' +
        'a tombstone so that a redelivery stores nothing. Requires ADMIN_TOKEN.',
      querystring: Type.Object({
        from: Type.String({
          pattern: E164_PATTERN,
          description: 'the sender, E.164 (required: there is no erase-everything)',
        }),
      }),
      response: {
        200: Deleted,
        401: ADMIN_401,
        403: ADMIN_403,
        422: ValidationErrorBody,
        503: READ_UNAVAILABLE,
      },
    },
    preValidation: normaliseQuery,
    handler: async (request) => {
      const deleted = await store.erase({ from: request.query.from });
      metrics.countErased(deleted);
      request.log.info({ erased: deleted, by: 'sender' }, 'messages erased');
      return { deleted };
    },
  });

  const one = (url: string, params?: ReturnType<typeof Type.Object>) =>
    app.delete(url, {
      onRequest,
      schema: {
        tags: ['erasure'],
        summary:
          params === undefined ? 'Erase the message whose id is `export`' : 'Erase one message',
        description:
          'The message and its share of every total; its id keeps a tombstone so that a ' +
          'redelivery stores nothing. Requires ADMIN_TOKEN.',
        ...(params === undefined ? {} : { params }),
        response: {
          200: Deleted,
          401: ADMIN_401,
          403: ADMIN_403,
          404: errorResponse('No message has this message_id', [DETAIL.messageNotFound]),
          503: READ_UNAVAILABLE,
        },
      },
      handler: async (request) => {
        const messageId = (request.params as { message_id?: string }).message_id ?? 'export';
        const deleted = await store.erase({ messageId });
        metrics.countErased(deleted);
        if (deleted === 0) throw new HttpError(404, DETAIL.messageNotFound);
        request.log.info({ erased: deleted, by: 'id' }, 'messages erased');
        return { deleted };
      },
    });
  one(
    '/messages/:message_id',
    Type.Object({ message_id: Type.String({ description: 'the message_id, percent-encoded' }) }),
  );
  // the fixed path /messages/export (GET: the export) would otherwise take this DELETE too
  one('/messages/export');
};

export default eraseRoutes;
