import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { decodeStatusCursor, encodeStatusCursor } from '../cursor.js';
import { ValidationErrorBody, validationError } from '../http/errors.js';
import { rejectOtherMethods } from '../http/guards.js';
import { documented, READ_UNAVAILABLE } from '../http/openapi.js';
import { READ_TOKEN_401, requireReadToken } from '../http/read-token.js';
import { instantOf } from '../instant.js';
import { Timestamp } from '../message.js';
import { TOP_FAILURES } from '../store/records.js';
import type { Store } from '../store/store.js';

/**
 * GET /statuses: the delivery statuses of the messages a business sent, filtered and paged like
 * GET /messages, in (instant of ts, message_id, status) order. GET /stats/statuses: statuses
 * per status word and the commonest failure codes, from the kept counts.
 */

const DEFAULT_LIMIT = 50;

const StatusesQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_LIMIT, description: 'page size' }),
  ),
  offset: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 0,
      description: 'statuses to skip (at most 2^53 - 1)',
    }),
  ),
  message_id: Type.Optional(Type.String({ description: 'the statuses of this message only' })),
  status: Type.Optional(
    Type.String({ description: 'sent, delivered, read, failed, or another word Meta sends' }),
  ),
  since: Type.Optional(Timestamp('keeps statuses whose ts is at or after this instant')),
  cursor: Type.Optional(
    Type.String({ description: 'next_cursor of the previous page: start right after it' }),
  ),
});

const StatusSchema = Type.Object({
  message_id: Type.String({ description: 'the wamid of the message the business sent' }),
  status: Type.String(),
  ts: Type.String({ description: 'when Meta saw the status, YYYY-MM-DDTHH:MM:SSZ' }),
  recipient: Type.String({
    description: '+ and the digits of the recipient, or their business-scoped user id',
  }),
  errors: Type.Array(
    Type.Object({
      code: Type.Union([Type.Integer(), Type.Null()]),
      title: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  category: Type.Union([Type.String(), Type.Null()], {
    description: 'the pricing category (utility, marketing, service…), when Meta sent one',
  }),
});

const StatusPageSchema = Type.Object({
  data: Type.Array(StatusSchema),
  total: Type.Integer({ description: 'statuses matching the filters, over all pages' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

const StatusStatsSchema = Type.Object({
  by_status: Type.Record(Type.String(), Type.Integer(), {
    description:
      'how many messages have a status of each kind (sent, delivered, read and failed always named)',
  }),
  failures: Type.Array(
    Type.Object({
      code: Type.Integer(),
      title: Type.Union([Type.String(), Type.Null()]),
      count: Type.Integer(),
    }),
    { description: `the ${TOP_FAILURES} commonest failure codes, by count descending, then code` },
  ),
});

const DIGITS = /^[0-9]+$/;

async function normaliseQuery(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown>;
  for (const name of ['limit', 'offset']) {
    const value = query[name];
    if (typeof value === 'string' && DIGITS.test(value)) query[name] = Number(value);
  }
  for (const name of ['message_id', 'status']) if (query[name] === '') delete query[name];
}

export interface StatusesOptions {
  store: Store;
  readToken?: string | null;
}

const statusesRoutes: FastifyPluginAsyncTypebox<StatusesOptions> = async (
  app,
  { store, readToken },
) => {
  const onRequest = requireReadToken(readToken ?? null);
  const guarded = onRequest === undefined ? {} : { onRequest };
  app.get('/statuses', {
    ...guarded,
    schema: {
      tags: ['whatsapp'],
      summary: 'List delivery statuses',
      description:
        'Statuses of the messages the business sent, as WhatsApp reported them, once per message ' +
        'and status; ordered by the instant of ts, then message_id, then status.',
      querystring: StatusesQuery,
      response: {
        200: documented(StatusPageSchema, 'One page of statuses', {
          examples: [
            {
              data: [
                {
                  message_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3N0EyQUJDMjFEQzZCQUMzODMA',
                  status: 'failed',
                  ts: '2025-06-18T16:22:53Z',
                  recipient: '+16505551234',
                  errors: [
                    {
                      code: 131049,
                      title:
                        'This message was not delivered to maintain healthy ecosystem engagement.',
                    },
                  ],
                  category: 'marketing',
                },
              ],
              total: 1,
              limit: 50,
              offset: 0,
              next_cursor: null,
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
      const {
        limit = DEFAULT_LIMIT,
        offset = 0,
        message_id,
        status,
        since,
        cursor,
      } = request.query;
      const after = cursor === undefined ? undefined : decodeStatusCursor(cursor);
      if (after === null) {
        throw validationError([
          { loc: ['query', 'cursor'], msg: 'is not a cursor', type: 'value_error' },
        ]);
      }
      const filter = {
        message_id,
        status,
        since: since === undefined ? undefined : instantOf(since),
      };
      const page = await store.listStatuses(filter, { limit, offset, after });
      const last = page.data.at(-1);
      const next_cursor =
        page.more && last !== undefined
          ? encodeStatusCursor({
              instant: instantOf(last.ts),
              messageId: last.message_id,
              status: last.status,
            })
          : null;
      return { data: page.data, total: page.total, limit, offset, next_cursor };
    },
  });
  rejectOtherMethods(app, '/statuses', ['GET']);

  app.get('/stats/statuses', {
    ...guarded,
    schema: {
      tags: ['whatsapp'],
      summary: 'Delivery status statistics',
      description: 'From the counts kept by every write: no scan.',
      response: {
        200: documented(StatusStatsSchema, 'Statuses per kind and the commonest failures', {
          examples: [
            {
              by_status: { sent: 120, delivered: 110, read: 80, failed: 4 },
              failures: [
                {
                  code: 131049,
                  title: 'This message was not delivered to maintain healthy ecosystem engagement.',
                  count: 3,
                },
                { code: 131026, title: 'Message undeliverable', count: 1 },
              ],
            },
          ],
        }),
        401: READ_TOKEN_401,
        503: READ_UNAVAILABLE,
      },
    },
    handler: () => store.statusStats(),
  });
  rejectOtherMethods(app, '/stats/statuses', ['GET']);
};

export default statusesRoutes;
