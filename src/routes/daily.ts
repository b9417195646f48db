import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ValidationErrorBody } from '../http/errors.js';
import { rejectOtherMethods } from '../http/guards.js';
import { documented, READ_UNAVAILABLE } from '../http/openapi.js';
import { READ_TOKEN_401, requireReadToken } from '../http/read-token.js';
import { E164_PATTERN } from '../message.js';
import type { Store } from '../store/store.js';

/** GET /stats/daily: messages per UTC day of ts, from the kept hour and sender-day counts. */

const DEFAULT_DAYS = 30;

const DailyQuery = Type.Object({
  days: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 366,
      default: DEFAULT_DAYS,
      description: 'how many of the most recent days that hold messages',
    }),
  ),
  from: Type.Optional(
    Type.String({
      pattern: E164_PATTERN,
      description: 'one sender (E.164) only; a leading space, left by an unencoded +, is read as +',
    }),
  ),
});

const DailySchema = Type.Object({
  days: Type.Array(
    Type.Object({
      day: Type.String({ description: 'YYYY-MM-DD, a UTC day of ts' }),
      count: Type.Integer(),
    }),
    { description: 'oldest first; days without messages are not listed' },
  ),
});

async function normaliseQuery(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown>;
  if (typeof query.days === 'string' && /^[0-9]+$/.test(query.days)) {
    query.days = Number(query.days);
  }
  if (typeof query.from === 'string' && query.from.startsWith(' ')) {
    query.from = `+${query.from.slice(1)}`;
  }
  if (query.from === '') delete query.from;
}

export interface DailyOptions {
  store: Store;
  readToken?: string | null;
}

const dailyRoutes: FastifyPluginAsyncTypebox<DailyOptions> = async (app, { store, readToken }) => {
  const onRequest = requireReadToken(readToken ?? null);
  app.get('/stats/daily', {
    ...(onRequest === undefined ? {} : { onRequest }),
    schema: {
      tags: ['messages'],
      summary: 'Messages per day',
      description:
        'Messages per UTC day of ts for the N most recent days that hold any, oldest first, ' +
        'answered from the counts kept by every write (no scan).',
      querystring: DailyQuery,
      response: {
        200: documented(DailySchema, 'Counts per day', {
          examples: [
            {
              days: [
                { day: '2025-01-14', count: 12 },
                { day: '2025-01-15', count: 30 },
              ],
            },
          ],
        }),
        401: READ_TOKEN_401,
        422: ValidationErrorBody,
        503: READ_UNAVAILABLE,
      },
    },
    preValidation: normaliseQuery,
    handler: async (request) => {
      const { days = DEFAULT_DAYS, from } = request.query;
      return { days: await store.dailyCounts(days, from) };
    },
  });
  rejectOtherMethods(app, '/stats/daily', ['GET']);
};

export default dailyRoutes;
