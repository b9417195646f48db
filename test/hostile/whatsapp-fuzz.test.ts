import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { APP_SECRET, postWhatsapp } from '../harness/whatsapp.js';
import { storeKinds, type TestApp, testApp } from '../helpers.js';

/**
 * fast-check over WhatsApp deliveries: envelopes of the right outline with hostile values in
 * every place, and arbitrary JSON. The service never answers 5xx nor crashes, answers only 200
 * or 422, and a refused delivery stores nothing at all.
 */

/** FUZZ_RUNS (a whole number >= 1) runs per property; 150 when unset. FUZZ_SEED replays one. */
const RUNS = (() => {
  const value = process.env.FUZZ_RUNS;
  if (value === undefined) return 150;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new Error(`FUZZ_RUNS must be a whole number >= 1, not ${JSON.stringify(value)}`);
  }
  return Number(value);
})();
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const hostile = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.string({ maxLength: 300, unit: 'binary' }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '😀', '0', '-1', '1.5', '1e3', '99999999999999'),
  fc.integer(),
  fc.double(),
);

/** A value that is usually fine and sometimes hostile. */
const mostly = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: hostile });

const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined });

const messageItem = fc.record(
  {
    id: mostly(fc.string({ minLength: 1, maxLength: 20 }).map((s) => `wamid.${s}`)),
    from: mostly(fc.stringMatching(/^[1-9][0-9]{6,14}$/)),
    from_user_id: maybe(mostly(fc.constant('BR.1502576394655843'))),
    timestamp: mostly(fc.integer({ min: 0, max: 2_000_000_000 }).map(String)),
    type: mostly(fc.constantFrom('text', 'image', 'reaction', 'location', 'interactive', 'x')),
    text: maybe(fc.record({ body: mostly(fc.string()) })),
    image: maybe(fc.record({ caption: mostly(fc.string()) })),
    reaction: maybe(fc.record({ emoji: mostly(fc.string()) })),
    location: maybe(fc.record({ name: hostile, address: hostile })),
    interactive: maybe(hostile),
    context: maybe(fc.record({ id: hostile })),
  },
  { requiredKeys: ['id', 'timestamp'] },
);

const statusItem = fc.record(
  {
    id: mostly(fc.string({ minLength: 1, maxLength: 20 })),
    status: mostly(fc.constantFrom('sent', 'delivered', 'read', 'failed', 'other')),
    timestamp: mostly(fc.integer({ min: 0, max: 2_000_000_000 })),
    recipient_id: mostly(fc.stringMatching(/^[1-9][0-9]{6,14}$/)),
    errors: maybe(mostly(fc.array(fc.record({ code: mostly(fc.integer()), title: hostile })))),
    pricing: maybe(fc.record({ category: hostile })),
  },
  { requiredKeys: ['id', 'status', 'timestamp'] },
);

const envelope = fc.record({
  object: mostly(fc.constant('whatsapp_business_account')),
  entry: mostly(
    fc.array(
      fc.record({
        id: mostly(fc.constant('311456789012345')),
        changes: mostly(
          fc.array(
            fc.record({
              field: mostly(fc.constantFrom('messages', 'messages', 'account_update')),
              value: mostly(
                fc.record(
                  {
                    metadata: mostly(
                      fc.record({ display_phone_number: mostly(fc.constant('15557850142')) }),
                    ),
                    contacts: maybe(hostile),
                    messages: maybe(mostly(fc.array(messageItem, { maxLength: 4 }))),
                    statuses: maybe(mostly(fc.array(statusItem, { maxLength: 3 }))),
                  },
                  { requiredKeys: [] },
                ),
              ),
            }),
            { maxLength: 2 },
          ),
        ),
      }),
      { maxLength: 2 },
    ),
  ),
});

for (const kind of storeKinds()) {
  describe(`WhatsApp deliveries under fuzzing (${kind.name})`, { skip: kind.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await testApp({ kind, whatsapp: { appSecret: APP_SECRET } });
    });
    after(() => t.close());

    const totals = async () => ({
      messages: (await t.app.inject('/messages')).json().total as number,
      statuses: (await t.app.inject('/statuses')).json().total as number,
    });

    const seen = new Set<number>();
    const check = async (body: string) => {
      const before = await totals();
      const response = await postWhatsapp(t.app, body);
      seen.add(response.statusCode);
      assert.ok(
        [200, 422].includes(response.statusCode),
        `${response.statusCode} ${response.body}`,
      );
      if (response.statusCode === 422) {
        assert.deepEqual(await totals(), before, 'a refused delivery stored something');
        assert.ok(Array.isArray(response.json().detail), 'a 422 lists its problems');
      }
    };

    it('answers 200 or 422 to envelopes with hostile values, storing nothing from a refusal', async () => {
      await fc.assert(
        fc.asyncProperty(envelope, (body) => check(JSON.stringify(body))),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      // the generator reaches both sides: deliveries stored and deliveries refused
      if (RUNS >= 50) assert.deepEqual([...seen].sort(), [200, 422]);
      assert.ok((await totals()).messages > 0 || RUNS < 50, 'some fuzzed delivery was stored');
    });

    it('answers 200 or 422 to any JSON at all', async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), (value) => check(JSON.stringify(value))),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    });

    it('keeps serving afterwards', async () => {
      assert.equal((await t.app.inject('/health/live')).statusCode, 200);
      assert.equal((await t.app.inject('/stats/statuses')).statusCode, 200);
      assert.equal((await t.app.inject('/stats/daily')).statusCode, 200);
    });
  });
}
