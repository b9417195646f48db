import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { encodeCursor, positionOf } from '../../src/cursor.js';
import { REPLAY_LIMIT } from '../../src/routes/events.js';
import {
  message,
  postWebhook,
  seed,
  storeKinds,
  type TestApp,
  type TestAppOptions,
  testApp,
  within,
} from '../helpers.js';

interface Event {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** An open event stream on a real socket, read frame by frame. */
class EventReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  constructor(
    readonly response: Response,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
  ) {}

  /** The next frame (events, comments and the retry line alike). */
  async next(): Promise<Event> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const frame = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event: Event = {};
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) event.comment = line.slice(1).trim();
          const colon = line.indexOf(': ');
          if (colon > 0) {
            const name = line.slice(0, colon) as 'event' | 'id' | 'data';
            if (name === 'event' || name === 'id' || name === 'data') {
              event[name] = line.slice(colon + 2);
            }
          }
        }
        return event;
      }
      const { value, done } = await within(this.reader.read(), 5000, 'the next event');
      if (done) throw new Error('the stream ended');
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** The next `message` events' data, skipping everything else. */
  async messages(count: number): Promise<{ id?: string; message: Record<string, unknown> }[]> {
    const found = [];
    while (found.length < count) {
      const event = await this.next();
      if (event.event === 'message' && event.data !== undefined) {
        found.push({ id: event.id, message: JSON.parse(event.data) });
      }
    }
    return found;
  }

  close(): Promise<void> {
    return this.reader.cancel();
  }
}

for (const kind of storeKinds()) {
  describe(`GET /events (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    let base: string;
    const readers: EventReader[] = [];
    async function start(options: TestAppOptions = {}) {
      t = await testApp({ kind, ...options });
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    }
    async function connect(headers: Record<string, string> = {}): Promise<EventReader> {
      const response = await fetch(`${base}/events`, { headers });
      if (response.status !== 200) assert.fail(`${response.status}: ${await response.text()}`);
      assert.ok(response.body !== null);
      const reader = new EventReader(response, response.body.getReader());
      readers.push(reader);
      return reader;
    }
    afterEach(async () => {
      await Promise.all(readers.splice(0).map((r) => r.close().catch(() => {})));
      await t.close();
    });

    it('starts with ready at the newest message, then sends each new message once', async () => {
      await start();
      const stored = [message({ message_id: 'old', ts: '2025-01-15T09:00:00Z' })];
      await seed(t.app, stored);
      const stream = await connect();
      assert.equal(stream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.equal(stream.response.headers.get('cache-control'), 'no-store');
      assert.ok(stream.response.headers.get('x-request-id'));
      assert.deepEqual(await stream.next(), {});
      const ready = await stream.next();
      assert.equal(ready.event, 'ready');
      assert.equal(
        ready.id,
        encodeCursor(positionOf({ ts: '2025-01-15T09:00:00Z', message_id: 'old' })),
      );
      const fresh = message({
        message_id: 'new <b>',
        ts: '2025-01-15T10:00:00Z',
        text: 'hi\nthere',
      });
      assert.equal((await postWebhook(t.app, fresh)).statusCode, 200);
      assert.equal((await postWebhook(t.app, fresh)).statusCode, 200, 'a duplicate');
      const second = message({ message_id: 'newer', ts: '2025-01-15T11:00:00Z', text: null });
      await seed(t.app, [second]);
      const [first, next] = await stream.messages(2);
      assert.deepEqual(first?.message, fresh);
      assert.equal(
        first?.id,
        encodeCursor(positionOf({ ts: '2025-01-15T10:00:00Z', message_id: 'new <b>' })),
      );
      assert.deepEqual(next?.message, second, 'the duplicate was not sent');
    });

    it('sends an id only when it moves forward', async () => {
      await start();
      await seed(t.app, [message({ message_id: 'late', ts: '2025-01-15T12:00:00Z' })]);
      const stream = await connect();
      await stream.next();
      await stream.next();
      await seed(t.app, [message({ message_id: 'early', ts: '2025-01-15T08:00:00Z' })]);
      const [early] = await stream.messages(1);
      assert.equal(early?.message.message_id, 'early');
      assert.equal(early?.id, undefined, 'an earlier position is not an id');
    });

    it('replays what was stored after Last-Event-ID, then goes on live', async () => {
      await start();
      const all = Array.from({ length: 6 }, (_, i) =>
        message({ message_id: `m${i}`, ts: `2025-01-15T10:0${i}:00Z` }),
      );
      await seed(t.app, all);
      const lastSeen = encodeCursor(positionOf({ ts: '2025-01-15T10:02:00Z', message_id: 'm2' }));
      const stream = await connect({ 'last-event-id': lastSeen });
      const replayed = await stream.messages(3);
      assert.deepEqual(
        replayed.map((e) => e.message.message_id),
        ['m3', 'm4', 'm5'],
      );
      assert.deepEqual(replayed[2]?.message, all[5]);
      await seed(t.app, [message({ message_id: 'm6', ts: '2025-01-15T10:06:00Z' })]);
      const [live] = await stream.messages(1);
      assert.equal(live?.message.message_id, 'm6');
    });

    it(`says reset when more than ${REPLAY_LIMIT} messages were missed`, async () => {
      await start();
      await Promise.all(
        Array.from({ length: REPLAY_LIMIT + 5 }, (_, i) =>
          t.store.insert({
            message_id: `b${String(i).padStart(5, '0')}`,
            from: '+14155550100',
            to: '+14155550101',
            ts: '2025-01-15T10:00:00Z',
          }),
        ),
      );
      const stream = await connect({
        'last-event-id': encodeCursor({ instant: 0n, messageId: 'x' }),
      });
      const replayed = await stream.messages(REPLAY_LIMIT);
      assert.equal(
        replayed.at(-1)?.message.message_id,
        `b${String(REPLAY_LIMIT - 1).padStart(5, '0')}`,
      );
      const reset = await stream.next();
      assert.equal(reset.event, 'reset');
    });

    it('refuses a Last-Event-ID it did not make, and changes nothing', async () => {
      await start();
      const descending = encodeCursor({ instant: 1n, messageId: 'm' }, 'desc');
      for (const value of ['nonsense', descending, '']) {
        const response = await fetch(`${base}/events`, { headers: { 'last-event-id': value } });
        assert.equal(response.status, 422, value);
        const body = (await response.json()) as { detail: { loc: unknown }[] };
        assert.deepEqual(
          body.detail.map((d) => d.loc),
          [['header', 'last-event-id']],
        );
      }
    });

    it('requires the read token when one is set', async () => {
      await start({ readToken: 'reading-token' });
      const refused = await fetch(`${base}/events`);
      assert.equal(refused.status, 401);
      assert.deepEqual(await refused.json(), { detail: 'missing or invalid bearer token' });
      const wrong = await fetch(`${base}/events`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      const stream = await connect({ authorization: 'Bearer reading-token' });
      await stream.next();
      assert.equal((await stream.next()).event, 'ready');
    });

    it('sends keep-alive comments, and ends open streams when the app closes', async () => {
      await start({ eventsHeartbeatMs: 50 });
      const stream = await connect();
      await stream.next();
      await stream.next();
      assert.equal((await stream.next()).comment, 'keep-alive');
      await within(t.app.close(), 3000, 'closing with a stream open');
      await assert.rejects(async () => {
        for (;;) await stream.next();
      }, /ended|terminated/);
    });
  });
}
