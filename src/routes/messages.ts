import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  type CursorValue,
  encodeCursor,
  type Order,
  type Position,
  positionOf,
} from '../cursor.js';
import { fold } from '../fold.js';
import { ValidationErrorBody, validationError } from '../http/errors.js';
import { rejectOtherMethods } from '../http/guards.js';
import { READ_UNAVAILABLE } from '../http/openapi.js';
import { READ_TOKEN_401, requireReadToken } from '../http/read-token.js';
import { instantOf } from '../instant.js';
import { E164_PATTERN, StoredMessageSchema, Timestamp } from '../message.js';
import type { Store, StoredMessage } from '../store/store.js';
import { CURSOR_KEYWORD } from '../validation.js';

/**
 * GET /messages: stored messages in (instant of ts, message_id) order, filtered and paginated.
 * Query values arrive as strings; normaliseQuery turns plain decimal digits into numbers and
 * leaves everything else for the schema to reject, so "+5", "5.0", "1e2" and "" are 422s.
 */

const DEFAULT_LIMIT = 50;

export const ListQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_LIMIT, description: 'page size' }),
  ),
  offset: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 0,
      description: 'messages to skip (at most 2^53 - 1)',
    }),
  ),
  from: Type.Optional(
    Type.String({
      pattern: E164_PATTERN,
      description: 'exact sender (E.164); a leading space, left by an unencoded +, is read as +',
    }),
  ),
  since: Type.Optional(Timestamp('keeps messages whose ts is at or after this instant')),
  q: Type.Optional(
    Type.String({
      description: 'case-insensitive substring of text, in every script; %, _ and \\ are literal',
    }),
  ),
  cursor: Type.Optional(
    // decoded by the validator (see validation.ts): the handler gets the position it names
    Type.Unsafe<CursorValue>(
      Type.String({
        [CURSOR_KEYWORD]: true,
        description:
          'next_cursor of the previous page: start right after its last message (offset then ' +
          'counts from there). Deep pages cost as little as the first. A cursor of one ' +
          '`order` is refused by the other',
      }),
    ),
  ),
  details: Type.Optional(
    Type.String({
      enum: ['true'],
      description:
        'add source, type, contact_name, reply_to and received_at to each message (as ' +
        'GET /messages/{message_id} gives them, without the payload)',
    }),
  ),
  order: Type.Optional(
    Type.String({
      enum: ['asc', 'desc'],
      description:
        '`asc` (the default): oldest first, as described above; `desc`: newest first (the ' +
        'exact reverse order), with cursors of its own',
    }),
  ),
});

const nullable = (description: string) =>
  Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], description }));

/** A listed message: the five fields, and with details=true what else is kept about it. */
const ListedMessageSchema = Type.Object({
  ...StoredMessageSchema.properties,
  source: Type.Optional(Type.String({ description: 'details=true: webhook or whatsapp' })),
  type: nullable('details=true: the WhatsApp message type; null for POST /webhook'),
  contact_name: nullable("details=true: the sender's WhatsApp profile name"),
  reply_to: nullable('details=true: the message_id this one replies to'),
  received_at: Type.Optional(Type.String({ description: "details=true: the service's clock" })),
});

const MessagePageSchema = Type.Object({
  data: Type.Array(ListedMessageSchema),
  total: Type.Integer({ description: 'messages matching the filters, over all pages' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  next_cursor: Type.Union([Type.String(), Type.Null()], {
    description: 'pass as cursor to get the next page; null on the last page',
  }),
});

const DIGITS = /^[0-9]+$/;

/** Shapes the raw query for the schema; repeated parameters stay arrays and fail it. */
export async function normaliseQuery(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown>;
  for (const name of ['limit', 'offset']) {
    const value = query[name];
    if (typeof value === 'string' && DIGITS.test(value)) query[name] = Number(value);
  }
  if (typeof query.from === 'string' && query.from.startsWith(' '))
    query.from = `+${query.from.slice(1)}`;
  for (const name of ['from', 'q']) if (query[name] === '') delete query[name];
}

/** Each message with the details kept about it (one lookup by primary key per message). */
async function withDetails(store: Store, messages: StoredMessage[]) {
  const records = await Promise.all(messages.map((m) => store.get(m.message_id)));
  return messages.map((message, i) => {
    const record = records[i];
    if (record == null) return message; // erased between the page and the lookup
    const { source, type, contact_name, reply_to, received_at } = record;
    return { ...message, source, type, contact_name, reply_to, received_at };
  });
}

/** The cursor after a page's last message when more follow; null on the last page. */
function nextCursor(more: boolean, last: Position | null | undefined, order: Order) {
  return more && last != null ? encodeCursor(last, order) : null;
}

/** Sends JSON text as it is: Fastify serializes no string whose content type is JSON. */
function sendJson(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

export interface MessagesOptions {
  store: Store;
  /** READ_TOKEN, or null when reading is open */
  readToken?: string | null;
}

const messagesRoutes: FastifyPluginAsyncTypebox<MessagesOptions> = async (
  app,
  { store, readToken },
) => {
  const onRequest = requireReadToken(readToken ?? null);
  app.get('/messages', {
    ...(onRequest === undefined ? {} : { onRequest }),
    schema: {
      summary: 'List stored messages',
      description:
        'Ordered by the instant of ts, then message_id by code point. total counts every match. ' +
        'A parameter that is malformed, out of range or given twice is a 422.',
      querystring: ListQuery,
      response: {
        200: MessagePageSchema,
        401: READ_TOKEN_401,
        422: ValidationErrorBody,
        503: READ_UNAVAILABLE,
      },
    },
    preValidation: normaliseQuery,
    handler: async (request, reply) => {
      const { limit = DEFAULT_LIMIT, offset = 0, from, since, q, cursor } = request.query;
      const order = request.query.order === 'desc' ? 'desc' : 'asc';
      if (cursor !== undefined && cursor.order !== order) {
        throw validationError([
          {
            loc: ['query', 'cursor'],
            msg: `Input should be a next_cursor value returned with order=${order}`,
            type: 'cursor_invalid',
          },
        ]);
      }
      // parsed here, once, for every store (the validator has checked `since` already)
      const filter = {
        from,
        since: since === undefined ? undefined : instantOf(since),
        q: q === undefined ? undefined : fold(q),
      };
      const wanted = { limit, offset, after: cursor, order } as const;
      if (request.query.details === 'true') {
        const page = await store.list(filter, wanted);
        const last = page.data.at(-1);
        const next_cursor = nextCursor(page.more, last && positionOf(last), order);
        const data = await withDetails(store, page.data);
        return { data, total: page.total, limit, offset, next_cursor };
      }
      // the messages arrive as JSON text (serialized where they were read): the page around
      // them is written here, in MessagePageSchema's order, and sent as it is
      const page = await store.listJson(filter, wanted);
      const next_cursor = JSON.stringify(nextCursor(page.more, page.last, order));
      return sendJson(
        reply,
        `{"data":${page.json},"total":${page.total},"limit":${limit},"offset":${offset},` +
          `"next_cursor":${next_cursor}}`,
      );
    },
  });
  rejectOtherMethods(app, '/messages', ['GET', 'DELETE']);
};

export default messagesRoutes;
