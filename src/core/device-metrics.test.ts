import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import type { DeviceMetricsStore, MetricRollup } from './device-metrics-ports.js';
import {
  createDeviceMetrics,
  FLUSH_INTERVAL_MS,
  RETENTION_SECONDS,
  type DeviceMetricsDeps,
  type Scheduler,
} from './device-metrics.js';

/** 2023-11-14T22:00:00Z in seconds; the tests start 10 s into that minute. */
const M = 1_699_999_200;
const SECOND = 1_000_000;

class TestClock implements Clock {
  now = (M + 10) * SECOND;
  nowMicros(): number {
    return this.now;
  }
}

function memoryStore() {
  const appended: MetricRollup[][] = [];
  const prunes: [number, number][] = [];
  let failure: Error | undefined;
  const store: DeviceMetricsStore = {
    async append(rollups) {
      if (failure) throw failure;
      appended.push(rollups);
    },
    async query() {
      return [];
    },
    async prune(before, limit) {
      prunes.push([before, limit]);
      return 0;
    },
  };
  return {
    store,
    appended,
    prunes,
    rollups: () => appended.flat(),
    fail: (error: Error | undefined) => (failure = error),
  };
}

function manualScheduler() {
  const tasks = new Map<() => Promise<void>, number>();
  const scheduler: Scheduler = (intervalMs, task) => {
    tasks.set(task, intervalMs);
    return () => tasks.delete(task);
  };
  return {
    scheduler,
    intervals: () => [...tasks.values()],
    run: () => Promise.all([...tasks.keys()].map((task) => task())),
  };
}

function setup(overrides: Partial<DeviceMetricsDeps> = {}) {
  const clock = new TestClock();
  const memory = memoryStore();
  const timer = manualScheduler();
  const errors: unknown[] = [];
  let connected = 0;
  const metrics = createDeviceMetrics({
    store: memory.store,
    clock,
    connectedCount: () => connected,
    scheduler: timer.scheduler,
    onError: (error) => errors.push(error),
    ...overrides,
  });
  return {
    clock,
    memory,
    timer,
    errors,
    metrics,
    record: metrics.recorder.record.bind(metrics.recorder),
    setConnected: (n: number) => (connected = n),
  };
}

const rollup = (
  minute: number,
  metric: MetricRollup['metric'],
  identity: string | null,
  [count, sum, min, max]: number[],
  reason: string | null = null,
): MetricRollup => ({ minute, metric, identity, reason, count, sum, min, max }) as MetricRollup;

describe('the device metrics recorder', () => {
  it('rolls records up per minute, metric, identity and reason with count, sum, min and max', async () => {
    const { clock, memory, metrics, record } = setup();
    record('publish_size', 'a', 100);
    record('publish_size', 'a', 300);
    record('publish_size', 'a', 200);
    record('publish_size', 'b', 50);
    record('publish_size', null, 7);
    record('connection_error', null, undefined, 'bad_credentials');
    record('connection_error', null, undefined, 'bad_credentials');
    record('connection_error', 'a', undefined, 'locked');
    clock.now += 60 * SECOND;
    record('publish_size', 'a', 10);
    record('connection', 'a');
    await metrics.stop();
    expect(memory.rollups()).toEqual([
      rollup(M, 'publish_size', 'a', [3, 600, 100, 300]),
      rollup(M, 'publish_size', 'b', [1, 50, 50, 50]),
      rollup(M, 'publish_size', null, [1, 7, 7, 7]),
      rollup(M, 'connection_error', null, [2, 2, 1, 1], 'bad_credentials'),
      rollup(M, 'connection_error', 'a', [1, 1, 1, 1], 'locked'),
      rollup(M + 60, 'publish_size', 'a', [1, 10, 10, 10]),
      rollup(M + 60, 'connection', 'a', [1, 1, 1, 1]),
    ]);
  });

  it('rolls a publish up as publish_count, publish_size and publish_resource_count per minute', async () => {
    const { clock, memory, metrics } = setup();
    const { recorder } = metrics;
    recorder.recordPublish('a', 120, 3, clock.now);
    recorder.recordPublish('a', 80, 1, clock.now);
    recorder.recordPublish('b', 10, 2, clock.now);
    // Counted in the minute of the publish's time, whatever the clock says by then.
    recorder.recordPublish('a', 40, 5, clock.now + 60 * SECOND);
    clock.now += 120 * SECOND;
    await metrics.stop();
    expect(memory.rollups()).toEqual([
      rollup(M, 'publish_count', 'a', [2, 2, 1, 1]),
      rollup(M, 'publish_size', 'a', [2, 200, 80, 120]),
      rollup(M, 'publish_resource_count', 'a', [2, 4, 1, 3]),
      rollup(M, 'publish_count', 'b', [1, 1, 1, 1]),
      rollup(M, 'publish_size', 'b', [1, 10, 10, 10]),
      rollup(M, 'publish_resource_count', 'b', [1, 2, 2, 2]),
      rollup(M + 60, 'publish_count', 'a', [1, 1, 1, 1]),
      rollup(M + 60, 'publish_size', 'a', [1, 40, 40, 40]),
      rollup(M + 60, 'publish_resource_count', 'a', [1, 5, 5, 5]),
    ]);
  });

  it('keeps a reason only for connection_error, and calls a connection_error without one unknown', async () => {
    const { memory, metrics, record } = setup();
    record('connection', 'a', undefined, 'ignored');
    record('connection_error', 'a');
    await metrics.stop();
    expect(memory.rollups()).toEqual([
      rollup(M, 'connection', 'a', [1, 1, 1, 1]),
      rollup(M, 'connection_error', 'a', [1, 1, 1, 1], 'unknown'),
    ]);
  });

  it('keeps one rollup however many times the same thing is recorded', async () => {
    const { memory, metrics, record } = setup();
    for (let i = 0; i < 100_000; i++) record('publish_count', 'busy');
    await metrics.stop();
    expect(memory.rollups()).toEqual([rollup(M, 'publish_count', 'busy', [100_000, 100_000, 1, 1])]);
  });

  it('flushes on a timer every 10 s, writing each record once, and prunes rollups past 30 days', async () => {
    const { clock, memory, timer, metrics, record } = setup();
    metrics.start();
    expect(timer.intervals()).toEqual([FLUSH_INTERVAL_MS]);
    record('whitelisted', 'a');
    await timer.run();
    expect(memory.appended).toEqual([
      [rollup(M, 'connected', null, [1, 0, 0, 0]), rollup(M, 'whitelisted', 'a', [1, 1, 1, 1])],
    ]);
    clock.now += 10 * SECOND;
    await timer.run();
    expect(memory.appended).toHaveLength(1);
    record('whitelisted', 'b');
    await timer.run();
    expect(memory.appended[1]).toEqual([rollup(M, 'whitelisted', 'b', [1, 1, 1, 1])]);
    expect(memory.prunes).toEqual([
      [M + 10 - RETENTION_SECONDS, 10_000],
      [M + 20 - RETENTION_SECONDS, 10_000],
      [M + 20 - RETENTION_SECONDS, 10_000],
    ]);
    await metrics.stop();
  });

  it('samples the connected gauge at start and then on the first tick of every minute', async () => {
    const { clock, memory, timer, metrics, setConnected } = setup();
    setConnected(5);
    metrics.start();
    setConnected(6);
    clock.now += 40 * SECOND;
    await timer.run();
    clock.now += 10 * SECOND;
    setConnected(7);
    await timer.run();
    clock.now += 10 * SECOND;
    setConnected(8);
    await timer.run();
    clock.now += 180 * SECOND;
    setConnected(0);
    await timer.run();
    await metrics.stop();
    expect(memory.rollups().filter((r) => r.metric === 'connected')).toEqual([
      rollup(M, 'connected', null, [1, 5, 5, 5]),
      rollup(M + 60, 'connected', null, [1, 7, 7, 7]),
      rollup(M + 240, 'connected', null, [1, 0, 0, 0]),
    ]);
  });

  it('stops its timer at stop, flushes what is left, and records nothing of its own afterwards', async () => {
    const { memory, timer, metrics, record } = setup();
    metrics.start();
    metrics.start();
    expect(timer.intervals()).toHaveLength(1);
    record('deleted', 'a');
    await metrics.stop();
    expect(timer.intervals()).toEqual([]);
    expect(memory.rollups().map((r) => r.metric)).toEqual(['connected', 'deleted']);
    await metrics.stop();
    expect(memory.appended).toHaveLength(1);
  });

  it('answers a query with what a timer flush is still writing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const appended: MetricRollup[] = [];
    let held = true;
    const store: DeviceMetricsStore = {
      async append(rollups) {
        if (held) await gate;
        appended.push(...rollups);
      },
      async query(query) {
        const sum = appended.filter((r) => r.metric === query.metric).reduce((total, r) => total + r.sum, 0);
        return [{ time: M, value: sum, reason: null }];
      },
      async prune() {
        return 0;
      },
    };
    const { clock, timer, metrics } = setup({ store });
    metrics.start();
    metrics.recorder.recordPublish('a', 12, 1, clock.now);
    // The timer's flush takes the publish and is held while writing it; the query's own is not.
    const tick = timer.run();
    held = false;
    const answer = metrics.query({ metric_name: 'publish_count', aggregate_fn: 'sum' });
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect((await answer).map((point) => point.value)).toEqual([1]);
    await tick;
  });

  it('reports failing flushes and gauges to onError, never to the timer or to stop, and drops what failed', async () => {
    const { memory, timer, errors, metrics, record } = setup({
      connectedCount: () => {
        throw new Error('no count');
      },
    });
    metrics.start();
    memory.fail(new Error('disk full'));
    record('locked', 'a');
    await timer.run();
    record('locked', 'a');
    await expect(metrics.stop()).resolves.toBeUndefined();
    expect(errors.map((e) => (e as Error).message)).toEqual(['no count', 'disk full', 'disk full']);
    memory.fail(undefined);
    record('locked', 'b');
    await metrics.stop();
    expect(memory.rollups()).toEqual([rollup(M, 'locked', 'b', [1, 1, 1, 1])]);
  });
});
