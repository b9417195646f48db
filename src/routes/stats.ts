import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { ErrorBody, rejectOtherMethods } from '../errors.js';
import type { Store } from '../store/store.js';

const StatsSchema = Type.Object({
  total_messages: Type.Integer(),
  senders_count: Type.Integer({ description: 'distinct senders' }),
  messages_per_sender: Type.Array(Type.Object({ from: Type.String(), count: Type.Integer() }), {
    description: 'the 10 busiest senders, by count descending, then from ascending',
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
}

const statsRoutes: FastifyPluginAsync<StatsOptions> = async (app, { store }) => {
  app.get('/stats', {
    schema: {
      summary: 'Message statistics',
      response: { 200: StatsSchema, 503: ErrorBody },
    },
    handler: () => store.stats(),
  });
  rejectOtherMethods(app, '/stats', ['GET']);
};

export default statsRoutes;
