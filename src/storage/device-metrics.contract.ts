import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceMetricName } from '../core/device-metrics.js';
import type { DeviceMetricsQuery, MetricRollup } from '../core/device-metrics-ports.js';
import type { Store } from '../core/ports.js';

/** 2023-11-14T22:00:00Z, the start of an hour, in seconds. */
const H = 1_699_999_200;

function rollup(
  minute: number,
  metric: DeviceMetricName,
  identity: string | null,
  values: number[],
  reason: string | null = null,
): MetricRollup {
  return {
    minute,
    metric,
    identity,
    reason,
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** The device metrics port's part of the storage contract (see store.contract.ts). */
export function describeDeviceMetricsContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} store contract: device metrics`, () => {
    let store: Store;
    const query = (q: Partial<DeviceMetricsQuery> = {}) =>
      store.deviceMetrics.query({
        metric: 'publish_size',
        window: 60,
        fn: 'count',
        distinct: false,
        byReason: false,
        from: H - 3600,
        to: H + 7200,
        limit: 100,
        offset: 0,
        ...q,
      });
    const values = async (q: Partial<DeviceMetricsQuery> = {}) =>
      (await query(q)).map((p) => [p.time - H, p.value]);

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('merges a rollup into the stored one of the same minute, metric, identity and reason', async () => {
      await store.deviceMetrics.append([
        rollup(H, 'publish_size', 'a', [100, 200]),
        rollup(H, 'publish_size', null, [7]),
        rollup(H, 'connection_error', null, [1], 'locked'),
      ]);
      await store.deviceMetrics.append([
        rollup(H, 'publish_size', 'a', [50]),
        rollup(H, 'publish_size', null, [9]),
        rollup(H, 'connection_error', null, [1], 'locked'),
      ]);
      expect(await query({ fn: 'count' })).toEqual([{ time: H, value: 5, reason: null }]);
      expect(await values({ fn: 'sum' })).toEqual([[0, 366]]);
      expect(await values({ fn: 'min' })).toEqual([[0, 7]]);
      expect(await values({ fn: 'max' })).toEqual([[0, 200]]);
      expect(await values({ fn: 'avg' })).toEqual([[0, 366 / 5]]);
      expect(await query({ metric: 'connection_error', byReason: true })).toEqual([
        { time: H, value: 2, reason: 'locked' },
      ]);
      // Merged, not kept side by side: three rows, with or without identity.
      expect(await store.deviceMetrics.prune(H + 60, 100)).toBe(3);
      expect(await query()).toEqual([]);
    });

    it('groups minutes into windows starting at multiples of the window, in time order', async () => {
      await store.deviceMetrics.append([
        rollup(H + 3600, 'publish_size', 'a', [1]),
        rollup(H + 300, 'publish_size', 'a', [1, 1]),
        rollup(H + 60, 'publish_size', 'b', [1, 1, 1]),
        rollup(H, 'publish_size', 'a', [1, 1, 1, 1]),
      ]);
      expect(await values({ window: 60 })).toEqual([
        [0, 4],
        [60, 3],
        [300, 2],
        [3600, 1],
      ]);
      expect(await values({ window: 300 })).toEqual([
        [0, 7],
        [300, 2],
        [3600, 1],
      ]);
      expect(await values({ window: 3600 })).toEqual([
        [0, 9],
        [3600, 1],
      ]);
    });

    it('applies count, sum, min, max and avg across the rollups of a window', async () => {
      await store.deviceMetrics.append([
        rollup(H, 'publish_size', 'a', [10, 30]),
        rollup(H + 60, 'publish_size', 'b', [5]),
        rollup(H + 120, 'publish_size', null, [100, 100, 100]),
      ]);
      const at = (fn: DeviceMetricsQuery['fn']) => values({ fn, window: 300 });
      expect(await at('count')).toEqual([[0, 6]]);
      expect(await at('sum')).toEqual([[0, 345]]);
      expect(await at('min')).toEqual([[0, 5]]);
      expect(await at('max')).toEqual([[0, 100]]);
      expect(await at('avg')).toEqual([[0, 345 / 6]]);
    });

    it('with distinct, aggregates per-identity sums and leaves out rollups without identity', async () => {
      await store.deviceMetrics.append([
        rollup(H, 'publish_size', 'a', [4, 6]),
        rollup(H + 60, 'publish_size', 'a', [5]),
        rollup(H, 'publish_size', 'b', [1]),
        rollup(H + 120, 'publish_size', null, [1000]),
        rollup(H + 300, 'publish_size', 'c', [2]),
      ]);
      const at = (fn: DeviceMetricsQuery['fn']) => values({ fn, window: 300, distinct: true });
      expect(await at('count')).toEqual([
        [0, 2],
        [300, 1],
      ]);
      expect(await at('sum')).toEqual([
        [0, 16],
        [300, 2],
      ]);
      expect(await at('max')).toEqual([
        [0, 15],
        [300, 2],
      ]);
      expect(await at('min')).toEqual([
        [0, 1],
        [300, 2],
      ]);
      expect(await at('avg')).toEqual([
        [0, 8],
        [300, 2],
      ]);
      expect(await values({ window: 300, distinct: false })).toEqual([
        [0, 5],
        [300, 1],
      ]);
      expect(await values({ window: 3600, distinct: true })).toEqual([[0, 3]]);
    });

    it('gives one point per window and reason when grouping by reason, ordered by reason', async () => {
      await store.deviceMetrics.append([
        rollup(H, 'connection_error', 'a', [1, 1], 'locked'),
        rollup(H, 'connection_error', null, [1, 1, 1], 'bad_credentials'),
        rollup(H + 60, 'connection_error', 'b', [1], 'bad_credentials'),
        rollup(H + 60, 'connection_error', 'a', [1], 'bad_credentials'),
        rollup(H + 3600, 'connection_error', 'a', [1], 'qos2'),
      ]);
      const q = { metric: 'connection_error' as const, byReason: true, window: 3600 as const };
      expect(await query(q)).toEqual([
        { time: H, value: 5, reason: 'bad_credentials' },
        { time: H, value: 2, reason: 'locked' },
        { time: H + 3600, value: 1, reason: 'qos2' },
      ]);
      expect((await query({ ...q, distinct: true })).map((p) => [p.reason, p.value])).toEqual([
        ['bad_credentials', 2],
        ['locked', 1],
        ['qos2', 1],
      ]);
    });

    it('takes only the minutes overlapping [from, to) and only the metric asked for', async () => {
      await store.deviceMetrics.append([
        rollup(H - 60, 'publish_size', 'a', [1]),
        rollup(H, 'publish_size', 'a', [1, 1]),
        rollup(H + 60, 'publish_size', 'a', [1, 1, 1]),
        rollup(H + 120, 'publish_size', 'a', [1, 1, 1, 1]),
        rollup(H + 60, 'publish_count', 'a', [1, 1, 1, 1, 1]),
      ]);
      expect(await values({ from: H + 1, to: H + 120 })).toEqual([
        [0, 2],
        [60, 3],
      ]);
      expect(await values({ from: H, to: H + 121 })).toEqual([
        [0, 2],
        [60, 3],
        [120, 4],
      ]);
      expect(await values({ from: H + 30, to: H + 30 })).toEqual([]);
      expect(await values({ metric: 'publish_count' })).toEqual([[60, 5]]);
      expect(await values({ metric: 'connection' })).toEqual([]);
    });

    it('pages points with limit and offset', async () => {
      await store.deviceMetrics.append(
        [0, 1, 2, 3, 4].map((i) => rollup(H + i * 60, 'publish_size', 'a', [i + 1])),
      );
      expect(await values({ fn: 'sum', limit: 2, offset: 1 })).toEqual([
        [60, 2],
        [120, 3],
      ]);
      expect(await values({ fn: 'sum', limit: 10, offset: 4 })).toEqual([[240, 5]]);
      expect(await values({ offset: 5 })).toEqual([]);
      expect(await values({ offset: 99_999_999 })).toEqual([]);
    });

    it('prunes rollups of minutes before a time, at most as many as asked at once', async () => {
      await store.deviceMetrics.append([
        rollup(H - 120, 'publish_size', 'a', [1]),
        rollup(H - 120, 'publish_count', 'a', [1]),
        rollup(H - 60, 'connection', null, [1]),
        rollup(H, 'publish_size', 'a', [1]),
      ]);
      expect(await store.deviceMetrics.prune(H, 2)).toBe(2);
      expect(await store.deviceMetrics.prune(H, 2)).toBe(1);
      expect(await store.deviceMetrics.prune(H, 2)).toBe(0);
      expect(await values()).toEqual([[0, 1]]);
    });
  });
}
