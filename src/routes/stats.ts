import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { rejectOtherMethods } from '../http/guards.js';
import { documented, READ_UNAVAILABLE } from '../http/openapi.js';
import { READ_TOKEN_401, requireReadToken } from '../http/read-token.js';
import { type Store, TOP_SENDERS } from '../store/store.js';

const StatsSchema = Type.Object({
  total_messages: Type.Integer(),
  senders_count: Type.Integer({ description: 'distinct senders' }),
  messages_per_sender: Type.Array(Type.Object({ from: Type.String(), count: Type.Integer() }), {
    description: `the ${TOP_SENDERS} busiest senders, by count descending, then from ascending`,
  }),
  first_message_ts: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'ts of the earliest message by instant, as sent; null when there are none',
  }),
  last_message_ts: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'ts of the latest message by instant, as sent; null when there are none',
  }),
});

export interface StatsOptions {
  store: Store;
  /** READ_TOKEN, or null when reading is open */
  readToken?: string | null;
}

const statsRoutes: FastifyPluginAsyncTypebox<StatsOptions> = async (app, { store, readToken }) => {
  const onRequest = requireReadToken(readToken ?? null);
  app.get('/stats', {
    ...(onRequest === undefined ? {} : { onRequest }),
    schema: {
      tags: ['messages'],
      summary: 'Message statistics',
      description:
        `Counts of stored messages (duplicates were never stored) and senders, the ${TOP_SENDERS} ` +
        'busiest senders, and the ts of the first and last message in /messages order.',
      response: {
        200: documented(StatsSchema, 'Statistics over every stored message', {
          examples: [
            {
              total_messages: 123,
              senders_count: 10,
              messages_per_sender: [{ from: '+919876543210', count: 50 }],
              first_message_ts: '2025-01-10T09:00:00Z',
              last_message_ts: '2025-01-15T10:00:00Z',
            },
          ],
        }),
        401: READ_TOKEN_401,
        503: READ_UNAVAILABLE,
      },
    },
    handler: () => store.stats(),
  });
  rejectOtherMethods(app, '/stats', ['GET']);
};

export default statsRoutes;
