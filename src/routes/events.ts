import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { decodeCursor, encodeCursor, type Position, positionOf } from '../cursor.js';
import { ValidationErrorBody, validationError } from '../http/errors.js';
import { rejectOtherMethods } from '../http/guards.js';
import { READ_UNAVAILABLE } from '../http/openapi.js';
import { READ_TOKEN_401, requireReadToken } from '../http/read-token.js';
import type { Store, StoredMessage } from '../store/store.js';

/**
 * GET /events: server-sent events, one `message` event per newly stored message (from every
 * replica on PostgreSQL, see Store.subscribe).
 *
 * An event's id is the message's position in /messages order (an ascending cursor), sent only
 * when it is later than every id sent before on the stream. A client that reconnects with
 * `Last-Event-ID` first gets, from the store, every message after that position (up to
 * REPLAY_LIMIT; beyond that one `reset` event says to reload), then the live ones. A fresh
 * stream starts with a `ready` event whose id is the newest stored message's position, so that
 * even a reconnect before any message arrived loses nothing. A message stored later with a ts
 * earlier than the client's last id is sent live but not replayed.
 */

/** A comment this often keeps proxies and the idle-connection timeout from closing the stream. */
export const HEARTBEAT_MS = 15_000;

/** Most messages replayed after a reconnect; more than that, and the client should reload. */
export const REPLAY_LIMIT = 1000;

/** A client that leaves this much unread is dropped; it reconnects and replays what it missed. */
const MAX_UNREAD_BYTES = 1 << 20;

const REPLAY_PAGE = 100;

export interface EventsOptions {
  store: Store;
  readToken?: string | null;
  heartbeatMs?: number;
}

/** Code-point order of two strings (JavaScript's < compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function later(a: Position, b: Position): boolean {
  if (a.instant !== b.instant) return a.instant > b.instant;
  return compareCodePoints(a.messageId, b.messageId) > 0;
}

/** One stream's state: the latest id sent, so that ids only move forward. */
class Stream {
  constructor(
    readonly raw: ServerResponse,
    private last: Position | null,
  ) {}

  send(event: string, data: unknown, position: Position | null): void {
    let frame = `event: ${event}\n`;
    if (position !== null && (this.last === null || later(position, this.last))) {
      this.last = position;
      frame += `id: ${encodeCursor(position)}\n`;
    }
    this.raw.write(`${frame}data: ${JSON.stringify(data)}\n\n`);
    if (this.raw.writableLength > MAX_UNREAD_BYTES) this.raw.destroy();
  }

  message(message: StoredMessage): void {
    this.send('message', message, positionOf(message));
  }
}

const eventsRoutes: FastifyPluginAsyncTypebox<EventsOptions> = async (
  app,
  { store, readToken, heartbeatMs = HEARTBEAT_MS },
) => {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const raw of open) raw.end();
  });
  const onRequest = requireReadToken(readToken ?? null);
  app.get('/events', {
    ...(onRequest === undefined ? {} : { onRequest }),
    schema: {
      tags: ['messages'],
      summary: 'Newly stored messages, as server-sent events',
      description:
        'A text/event-stream of `message` events (data: a message as in /messages), from every ' +
        'replica. Each id is a position in /messages order; reconnect with `Last-Event-ID` to ' +
        `get the messages stored after it first (at most ${REPLAY_LIMIT}; beyond that a ` +
        '`reset` event says to reload). A fresh stream starts with a `ready` event. A comment ' +
        `line every ${HEARTBEAT_MS / 1000} s keeps the connection open.`,
      headers: Type.Object({
        'last-event-id': Type.Optional(
          Type.String({ description: 'the id of the last event received, to resume after it' }),
        ),
      }),
      response: {
        200: {
          description: 'The event stream, open until the client leaves',
          content: { 'text/event-stream': { schema: Type.String() } },
        },
        401: READ_TOKEN_401,
        422: ValidationErrorBody,
        503: READ_UNAVAILABLE,
      },
    },
    handler: async (request, reply) => {
      if (request.method === 'HEAD') return reply.type('text/event-stream; charset=utf-8').send('');
      const header = request.headers['last-event-id'];
      const resume = typeof header === 'string' ? decodeCursor(header) : null;
      if (header !== undefined && (resume === null || resume.order !== 'asc')) {
        throw validationError([
          {
            loc: ['header', 'last-event-id'],
            msg: 'Input should be the id of an event of this stream',
            type: 'cursor_invalid',
          },
        ]);
      }
      // listen first, so that nothing stored while the replay is read falls in between
      const early: StoredMessage[] = [];
      let deliver: (message: StoredMessage) => void = (message) => early.push(message);
      const unsubscribe = await store.subscribe((message) => deliver(message));
      let replay: StoredMessage[] = [];
      let reset = false;
      try {
        if (resume === null) {
          const newest = await store.list({}, { limit: 1, offset: 0, order: 'desc' });
          replay = newest.data;
        } else {
          let after: Position = resume;
          for (;;) {
            const page = await store.list({}, { limit: REPLAY_PAGE, offset: 0, after });
            replay.push(...page.data);
            const last = page.data.at(-1);
            if (!page.more || last === undefined) break;
            if (replay.length >= REPLAY_LIMIT) {
              reset = true;
              break;
            }
            after = positionOf(last);
          }
        }
      } catch (error) {
        unsubscribe();
        throw error;
      }

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      open.add(raw);
      const stream = new Stream(raw, resume);
      raw.write('retry: 1000\n\n');
      const replayed = new Set<string>();
      if (resume === null) {
        const newest = replay[0];
        stream.send('ready', {}, newest === undefined ? null : positionOf(newest));
      } else {
        for (const message of replay) {
          replayed.add(message.message_id);
          stream.message(message);
        }
        if (reset) stream.send('reset', {}, null);
      }
      for (const message of early) if (!replayed.has(message.message_id)) stream.message(message);
      deliver = (message) => stream.message(message);
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), heartbeatMs);
      const cleanUp = () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(raw);
      };
      raw.on('close', cleanUp);
      // a client that left while the replay was read: its 'close' has already happened
      if (raw.destroyed || request.raw.socket?.destroyed === true) cleanUp();
    },
  });
  rejectOtherMethods(app, '/events', ['GET']);
};

export default eventsRoutes;
