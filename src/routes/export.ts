import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CONTENT_TYPES, EXPORT_FORMATS, ExportStream } from '../export.js';
import { fold } from '../fold.js';
import { ValidationErrorBody } from '../http/errors.js';
import { rejectOtherMethods } from '../http/guards.js';
import { READ_UNAVAILABLE } from '../http/openapi.js';
import { READ_TOKEN_401, requireReadToken } from '../http/read-token.js';
import { instantOf } from '../instant.js';
import type { Store } from '../store/store.js';
import { ListQuery, normaliseQuery } from './messages.js';

/**
 * GET /messages/export: every message matching the filters of GET /messages, in its order, as
 * NDJSON or CSV, streamed (see ../export.ts). This fixed path wins over /messages/{message_id}.
 */

const ExportQuery = Type.Object({
  format: Type.Optional(
    Type.Union(
      EXPORT_FORMATS.map((format) => Type.Literal(format)),
      { default: 'ndjson', description: 'ndjson (one JSON object per line) or csv (RFC 4180)' },
    ),
  ),
  from: ListQuery.properties.from,
  since: ListQuery.properties.since,
  q: ListQuery.properties.q,
});

export interface ExportOptions {
  store: Store;
  /** READ_TOKEN, or null when reading is open */
  readToken?: string | null;
}

const exportRoutes: FastifyPluginAsyncTypebox<ExportOptions> = async (
  app,
  { store, readToken },
) => {
  const onRequest = requireReadToken(readToken ?? null);
  app.get('/messages/export', {
    ...(onRequest === undefined ? {} : { onRequest }),
    schema: {
      summary: 'Export every matching message',
      description:
        'The filters of GET /messages; every match, in its order, streamed. NDJSON: the five ' +
        'fields of a message per line. CSV: RFC 4180 with a header row, UTF-8, cells verbatim ' +
        '(no formula escaping); a missing text is an empty cell, an empty text is "".',
      querystring: ExportQuery,
      response: {
        200: {
          description: 'the messages, as NDJSON or CSV',
          content: {
            'application/x-ndjson': { schema: { type: 'string' } },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        401: READ_TOKEN_401,
        422: ValidationErrorBody,
        503: READ_UNAVAILABLE,
      },
    },
    preValidation: normaliseQuery,
    handler: async (request, reply) => {
      const { format = 'ndjson', from, since, q } = request.query;
      const filter = {
        from,
        since: since === undefined ? undefined : instantOf(since),
        q: q === undefined ? undefined : fold(q),
      };
      const stream = await new ExportStream(store, filter, format).start();
      return (
        reply
          .type(CONTENT_TYPES[format])
          .header('content-disposition', `attachment; filename="messages.${format}"`)
          .header('cache-control', 'no-store')
          // a stream is sent as it is, never through the response schema's serializer
          .send(stream as unknown as string)
      );
    },
  });
  // DELETE is left to DELETE /messages/{message_id}: it erases a message whose id is `export`
  rejectOtherMethods(app, '/messages/export', ['GET', 'DELETE']);
};

export default exportRoutes;
