import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { APP_SECRET, envelope, postWhatsapp, textItem } from './harness/whatsapp.js';
import {
  dropTestDatabasesAfterwards,
  freshSchema,
  POSTGRES_SKIP,
  type TestApp,
  testApp,
  withClient,
} from './helpers.js';

/**
 * Two replicas (two apps, each with its own PostgreSQL pool) receiving the same WhatsApp
 * deliveries at the same moment, as Meta's retries can make them: one copy of every item, the
 * kept counts equal to the rows, and each item counted as created exactly once.
 */

dropTestDatabasesAfterwards();

describe('WhatsApp deliveries racing on two replicas (postgres)', { skip: POSTGRES_SKIP }, () => {
  let url: string;
  const replicas: TestApp[] = [];
  before(async () => {
    ({ url } = await freshSchema());
    for (let i = 0; i < 2; i++) {
      replicas.push(
        await testApp({
          whatsapp: { appSecret: APP_SECRET },
          kind: {
            name: 'postgres',
            async open() {
              const store: Store = await openStore({
                kind: 'postgres',
                url,
                poolSize: 4,
                timeoutMs: 5000,
              });
              return { store, cleanup: () => store.close() };
            },
          },
        }),
      );
    }
  });
  after(async () => {
    for (const replica of replicas) await replica.close();
  });

  it('stores one copy of each item, with counts that match the rows', async () => {
    const created = { messages: 0, statuses: 0 };
    for (let round = 0; round < 15; round++) {
      // overlapping deliveries: each round repeats half of the previous round's items
      const messages = Array.from({ length: 100 }, (_, i) => {
        const n = round * 50 + i;
        return textItem(`race-${n}`, `word ${n}`, String(1764669660 + (n % 7) * 3600));
      });
      const statuses = Array.from({ length: 20 }, (_, i) => ({
        id: `out-${(round * 10 + i) % 120}`,
        status: ['sent', 'delivered', 'failed'][i % 3],
        timestamp: '1764669660',
        recipient_id: '447700900123',
        errors: i % 3 === 2 ? [{ code: 131026, title: 'Message undeliverable' }] : [],
      }));
      const body = JSON.stringify(envelope(messages, statuses));
      const answers = await Promise.all(replicas.map((r) => postWhatsapp(r.app, body)));
      for (const answer of answers) assert.equal(answer.statusCode, 200, answer.body);
    }
    for (const replica of replicas) {
      const lines = replica.logs.requests().filter((l) => l.path === '/webhooks/whatsapp');
      for (const line of lines) {
        created.messages += line.created_messages as number;
        created.statuses += line.created_statuses as number;
      }
    }
    const distinctMessages = 14 * 50 + 100;
    const { rows } = await withClient(url, (client) =>
      client.query(`SELECT
        (SELECT count(*)::int FROM messages) AS messages,
        (SELECT messages::int FROM message_totals) AS kept_messages,
        (SELECT sum(messages)::int FROM hour_counts) AS hour_messages,
        (SELECT sum(messages)::int FROM sender_day_counts) AS day_messages,
        (SELECT count(*)::int FROM statuses) AS statuses,
        (SELECT sum(statuses)::int FROM status_counts) AS kept_statuses,
        (SELECT count(*)::int FROM statuses WHERE status = 'failed') AS failed,
        (SELECT sum(failures)::int FROM failure_counts) AS kept_failures`),
    );
    const row = rows[0];
    assert.equal(row.messages, distinctMessages);
    assert.equal(row.kept_messages, distinctMessages);
    assert.equal(row.hour_messages, distinctMessages);
    assert.equal(row.day_messages, distinctMessages);
    assert.equal(row.kept_statuses, row.statuses);
    assert.equal(row.kept_failures, row.failed);
    assert.equal(created.messages, distinctMessages, 'each message created once');
    assert.equal(created.statuses, row.statuses, 'each status created once');
    const totals = await Promise.all(
      replicas.map(async (r) => (await r.app.inject('/messages')).json().total),
    );
    assert.deepEqual(totals, [distinctMessages, distinctMessages]);
  });
});
