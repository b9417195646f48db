import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DETAIL, HttpError } from '../http/errors.js';
import { rejectOtherMethods } from '../http/guards.js';
import { documented, errorResponse, READ_UNAVAILABLE } from '../http/openapi.js';
import { READ_TOKEN_401, requireReadToken } from '../http/read-token.js';
import { MessageRecordSchema } from '../message.js';
import type { Store } from '../store/store.js';

/**
 * GET /messages/{message_id}: one message with everything kept about it. The id is one path
 * segment, percent-encoded (`/` as %2F, `?` as %3F, `#` as %23, `%` as %25, a space as %20).
 */

export interface MessageOptions {
  store: Store;
  /** READ_TOKEN, or null when reading is open */
  readToken?: string | null;
}

const URL = '/messages/:message_id';

const messageRoutes: FastifyPluginAsyncTypebox<MessageOptions> = async (
  app,
  { store, readToken },
) => {
  const onRequest = requireReadToken(readToken ?? null);
  app.get(URL, {
    ...(onRequest === undefined ? {} : { onRequest }),
    schema: {
      tags: ['messages'],
      summary: 'One stored message',
      description:
        'The five fields of /messages plus where it came from, when it was received and what ' +
        'was received for it. The id is percent-encoded as one path segment.',
      params: Type.Object({
        message_id: Type.String({ description: 'the message_id, percent-encoded' }),
      }),
      response: {
        200: documented(MessageRecordSchema, 'The message', {
          examples: [
            {
              message_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQURCMzRGRjJGRjM0RjZBNjQyOQA=',
              from: '+16505551234',
              to: '+15550783881',
              ts: '2024-03-01T17:46:40Z',
              text: 'Hello!',
              source: 'whatsapp',
              type: 'text',
              contact_name: 'Kerry Fisher',
              reply_to: null,
              received_at: '2024-03-01T17:46:41Z',
              payload: {
                from: '16505551234',
                id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQURCMzRGRjJGRjM0RjZBNjQyOQA=',
                timestamp: '1709315200',
                type: 'text',
                text: { body: 'Hello!' },
              },
            },
          ],
        }),
        401: READ_TOKEN_401,
        404: errorResponse('No message has this message_id', [DETAIL.messageNotFound]),
        503: READ_UNAVAILABLE,
      },
    },
    handler: async (request) => {
      const record = await store.get(request.params.message_id);
      if (record === null) throw new HttpError(404, DETAIL.messageNotFound);
      return { ...record, payload: record.payload === null ? null : JSON.parse(record.payload) };
    },
  });
  rejectOtherMethods(app, URL, ['GET', 'DELETE']);
};

export default messageRoutes;
