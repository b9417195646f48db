import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { loadConfig } from '../src/config.js';
import { createMetrics, type Metrics } from '../src/http/metrics.js';
import { Retention } from '../src/retention.js';
import type { Store } from '../src/store/store.js';
import { configError, storeKinds } from './helpers.js';

/** A logger that keeps its lines. */
function lines() {
  const kept: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  return {
    kept,
    logger: {
      info: (fields: object, msg: string) =>
        kept.push({ level: 'info', fields: fields as Record<string, unknown>, msg }),
      warn: (fields: object, msg: string) =>
        kept.push({ level: 'warn', fields: fields as Record<string, unknown>, msg }),
    } as never,
  };
}

const NOW = new Date('2025-03-31T12:00:00Z');

for (const kind of storeKinds()) {
  describe(`retention sweeps (${kind.name})`, { skip: kind.skip }, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let metrics: Metrics;
    beforeEach(async () => {
      ({ store, cleanup } = await kind.open());
      metrics = createMetrics({ processMetrics: false });
    });
    afterEach(() => cleanup());

    it('deletes what was received more than RETENTION_DAYS ago, with one log line and metrics', async () => {
      // received 40, 31, 30 and 1 days before NOW; RETENTION_DAYS=30 keeps the last two
      const received = [
        '2025-02-19T12:00:00Z',
        '2025-02-28T12:00:00Z',
        '2025-03-01T12:00:00Z',
        '2025-03-30T12:00:00Z',
      ];
      for (const [i, at] of received.entries()) {
        await store.insert(
          { message_id: `m${i}`, from: '+111', to: '+222', ts: '2025-01-15T10:00:00Z', text: 'x' },
          { received_at: at },
        );
      }
      const log = lines();
      const retention = new Retention({
        store,
        days: 30,
        intervalMs: 60_000,
        logger: log.logger,
        metrics: metrics.keeping,
        now: () => NOW,
      });
      await retention.sweepOnce();
      const page = await store.list({}, { limit: 10, offset: 0 });
      assert.deepEqual(
        page.data.map((m) => m.message_id),
        ['m2', 'm3'],
      );
      assert.equal((await store.stats()).total_messages, 2);
      assert.equal(log.kept.length, 1, 'one line per sweep');
      assert.equal(log.kept[0]?.msg, 'retention sweep');
      assert.deepEqual(
        { ...log.kept[0]?.fields, duration_ms: 0 },
        {
          retention_days: 30,
          before: '2025-03-01T12:00:00Z',
          deleted_messages: 2,
          deleted_statuses: 0,
          duration_ms: 0,
        },
      );
      const text = await metrics.registry.metrics();
      assert.match(text, /^retention_deleted_total\{kind="messages"\} 2$/m);
      const last = /^retention_last_sweep_timestamp_seconds (\S+)$/m.exec(text);
      assert.ok(last !== null && Number(last[1]) > Date.now() / 1000 - 60, 'last sweep time set');
    });
  });
}

describe('Retention', () => {
  it('logs a failed sweep as a warning, without its message text, and keeps going', async () => {
    const log = lines();
    let calls = 0;
    const store = {
      async sweep() {
        calls++;
        throw new Error('database unavailable');
      },
    } as unknown as Store;
    const metrics = createMetrics({ processMetrics: false });
    const retention = new Retention({
      store,
      days: 7,
      intervalMs: 20,
      logger: log.logger,
      metrics: metrics.keeping,
    });
    retention.start(0);
    await setTimeout(150);
    await retention.stop();
    const after = calls;
    assert.ok(after >= 2, `swept again after a failure (${after} times)`);
    assert.ok(
      log.kept.every((line) => line.level === 'warn'),
      'every failure is a warning',
    );
    assert.equal(log.kept[0]?.fields.error, 'database unavailable');
    await setTimeout(60);
    assert.equal(calls, after, 'no sweep after stop()');
  });

  it('logs a sweep skipped because another process sweeps', async () => {
    const log = lines();
    const store = { sweep: async () => null } as unknown as Store;
    const metrics = createMetrics({ processMetrics: false });
    await new Retention({
      store,
      days: 7,
      intervalMs: 1000,
      logger: log.logger,
      metrics: metrics.keeping,
    }).sweepOnce();
    assert.equal(log.kept.length, 1);
    assert.match(log.kept[0]?.msg ?? '', /skipped/);
    assert.match(await metrics.registry.metrics(), /^retention_last_sweep_timestamp_seconds 0$/m);
  });
});

describe('retention configuration', () => {
  it('reads RETENTION_DAYS and RETENTION_INTERVAL_S, refusing malformed values', () => {
    assert.equal(loadConfig({}, '/x').retentionDays, null);
    assert.equal(loadConfig({}, '/x').retentionIntervalMs, 600_000);
    const set = loadConfig({ RETENTION_DAYS: '30', RETENTION_INTERVAL_S: '60' }, '/x');
    assert.equal(set.retentionDays, 30);
    assert.equal(set.retentionIntervalMs, 60_000);
    for (const bad of ['0', '-1', '1.5', '30d', '36501']) {
      assert.equal(configError({ RETENTION_DAYS: bad }).variable, 'RETENTION_DAYS', bad);
    }
    for (const bad of ['0', '86401', 'hourly']) {
      assert.equal(configError({ RETENTION_INTERVAL_S: bad }).variable, 'RETENTION_INTERVAL_S');
    }
  });
});
