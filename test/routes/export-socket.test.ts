import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Position } from '../../src/cursor.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';
import type { ListFilter, Store, StoredMessage } from '../../src/store/store.js';
import { captureLogs } from '../helpers.js';

/**
 * GET /messages/export over a real socket, on a store of a million generated messages that
 * counts its reads: a client that stops reading holds the reads back, and one that goes away
 * stops them.
 */

const COUNT = 1_000_000;
let scans = 0;

const store = {
  async scan(_filter: ListFilter, after: Position | undefined, limit: number) {
    scans++;
    const start = after === undefined ? 0 : Number(after.messageId.slice(1)) + 1;
    const end = Math.min(COUNT, start + limit);
    return Array.from(
      { length: Math.max(0, end - start) },
      (_, k): StoredMessage => ({
        message_id: `m${String(start + k).padStart(9, '0')}`,
        from: '+14155550100',
        to: '+919876543210',
        ts: '2025-01-15T10:00:00Z',
        text: 'x'.repeat(200),
      }),
    );
  },
  searchBacklog: () => 0,
  async close() {},
} as unknown as Store;

let app: FastifyInstance;
let base: string;

before(async () => {
  app = await buildApp({
    store,
    logger: createLogger('error', captureLogs().stream),
    webhookSecret: 'secret',
    maxBodyBytes: 65536,
    metrics: createMetrics({ processMetrics: false }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
after(() => app.close());

describe('GET /messages/export over a socket', () => {
  it('holds the reads while the client does not read, and stops them when it disconnects', async () => {
    scans = 0;
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request(`${base}/messages/export`, resolve).on('error', reject).end();
    });
    assert.equal(response.statusCode, 200);
    response.pause();
    await setTimeout(500);
    const held = scans;
    // 500 chunks of 2000 make the million; what the socket buffers and the stream's 64 kB
    // hold is a handful of them
    assert.ok(held < 50, `${held} chunks read while the client read nothing`);
    await setTimeout(300);
    assert.equal(scans, held, 'no more reads while the client still reads nothing');
    // read for a while: the reads go on as fast as the client takes them
    response.resume();
    await setTimeout(200);
    const flowing = scans;
    assert.ok(flowing > held, 'reads resumed when the client read');
    assert.ok(flowing < 500, 'not finished yet');
    response.destroy();
    await setTimeout(100);
    const afterClose = scans;
    await setTimeout(400);
    assert.equal(scans, afterClose, 'the reads stopped once the client went away');
    assert.ok(afterClose < 500, `${afterClose} of 500 chunks read`);
  });
});
