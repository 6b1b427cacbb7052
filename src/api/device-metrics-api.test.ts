import { afterEach, describe, expect, it } from 'vitest';
import type { Scheduler } from '../core/device-metrics.js';
import { assertError, SECOND, startTestApi, T0, type TestApi } from './test-api.js';

/* T0 is 2023-11-14T22:13:20Z. */
const MINUTE = 60 * SECOND;
const T0_SECONDS = T0 / SECOND;

let api: TestApi;
afterEach(async () => {
  await api.close();
});

/** Records as the connectivity code will, at `at` (µs), and puts the clock back. */
function recordAt(at: number, record: () => void): void {
  const now = api.clock.now;
  api.clock.now = at;
  record();
  api.clock.now = now;
}

function manualScheduler() {
  let task: (() => Promise<void>) | undefined;
  const scheduler: Scheduler = (_interval, next) => {
    task = next;
    return () => (task = undefined);
  };
  return { scheduler, tick: () => task?.() };
}

describe('getDeviceMetrics', () => {
  it('answers points of the reference shape: UTC window starts with six fractional digits, in time order', async () => {
    api = await startTestApi();
    const { recorder } = api.deviceMetrics;
    recordAt(T0 - 50 * MINUTE, () => recorder.record('connection', 'a'));
    recordAt(T0 - 10 * MINUTE, () => recorder.record('connection', 'a'));
    recordAt(T0 - 9 * MINUTE, () => recorder.record('connection', 'b'));
    recorder.record('connection', 'a');
    expect(
      await api.ok('getDeviceMetrics', {
        metric_name: 'connection',
        aggregate_fn: 'count',
        aggregate_window: '5m',
      }),
    ).toEqual([
      { time: '2023-11-14T21:20:00.000000Z', value: 1 },
      { time: '2023-11-14T22:00:00.000000Z', value: 2 },
      { time: '2023-11-14T22:10:00.000000Z', value: 1 },
    ]);
  });

  it('by default gives the peak of the connected gauge over the last hour, in 1 h windows', async () => {
    let connected = 5;
    const timer = manualScheduler();
    api = await startTestApi({ connectedCount: () => connected, scheduler: timer.scheduler });
    api.clock.advance(-2 * 3600 * SECOND);
    api.deviceMetrics.start();
    api.clock.advance(2 * 3600 * SECOND);
    for (const count of [4, 9, 2]) {
      connected = count;
      await timer.tick();
      api.clock.advance(MINUTE);
    }
    expect(await api.ok('getDeviceMetrics', {})).toEqual([{ time: '2023-11-14T22:00:00.000000Z', value: 9 }]);
    const at = (aggregate_fn: 'count' | 'max' | 'min' | 'sum' | 'avg', distinct = false) =>
      api.ok('getDeviceMetrics', { metric_name: 'connected', aggregate_fn, distinct });
    expect(await at('max')).toEqual([{ time: '2023-11-14T22:00:00.000000Z', value: 9 }]);
    expect(await at('min')).toEqual([{ time: '2023-11-14T22:00:00.000000Z', value: 2 }]);
    expect(await at('sum')).toEqual([{ time: '2023-11-14T22:00:00.000000Z', value: 15 }]);
    expect(await at('avg')).toEqual([{ time: '2023-11-14T22:00:00.000000Z', value: 5 }]);
    expect(await at('count', true)).toEqual([{ time: '2023-11-14T22:00:00.000000Z', value: 9 }]);
    // The sample taken two hours ago lies before the default start.
    expect(
      await api.ok('getDeviceMetrics', { start_time: T0_SECONDS - 3 * 3600, aggregate_fn: 'sum' }),
    ).toEqual([
      { time: '2023-11-14T20:00:00.000000Z', value: 5 },
      { time: '2023-11-14T22:00:00.000000Z', value: 15 },
    ]);
  });

  it('counts identities whitelisted, locked and deleted through the API', async () => {
    api = await startTestApi();
    await api.ok('addIdentity', { identity: 'a' });
    await api.ok('addIdentity', { identity: 'b', locked: true });
    const made = await api.ok('makeIdentity', {});
    await api.ok('updateIdentity', { identity: 'a', locked: true });
    await api.ok('updateIdentity', { identity: 'a', locked: true });
    await api.ok('updateIdentity', { identity: 'b', locked: true });
    await api.ok('updateIdentity', { identity: 'b', locked: false });
    await api.call('addIdentity', { identity: 'a' });
    await api.call('removeIdentities', { identities: 'a,ghost' });
    await api.ok('removeIdentities', { identities: 'a,b' });
    await api.ok('removeIdentity', { identity: made.identity });
    const total = async (metric_name: 'whitelisted' | 'locked' | 'deleted', distinct = false) =>
      (await api.ok('getDeviceMetrics', { metric_name, distinct })).map((p) => p.value);
    expect(await total('whitelisted')).toEqual([3]);
    expect(await total('locked')).toEqual([2]);
    expect(await total('locked', true)).toEqual([2]);
    expect(await total('deleted')).toEqual([3]);
  });

  it('with distinct counts devices, and applies the other functions to per-device sums', async () => {
    api = await startTestApi();
    const { recorder } = api.deviceMetrics;
    recorder.record('publish_size', 'a', 100);
    recorder.record('publish_size', 'a', 50);
    recorder.record('publish_size', 'b', 10);
    recorder.record('publish_size', null, 999);
    const value = async (aggregate_fn: 'count' | 'max' | 'min' | 'sum' | 'avg', distinct?: boolean) =>
      (await api.ok('getDeviceMetrics', { metric_name: 'publish_size', aggregate_fn, distinct }))[0]?.value;
    expect(await value('count')).toBe(4);
    expect(await value('sum')).toBe(1159);
    expect(await value('max')).toBe(999);
    expect(await value('min')).toBe(10);
    expect(await value('avg')).toBe(1159 / 4);
    expect(await value('count', true)).toBe(2);
    expect(await value('sum', true)).toBe(160);
    expect(await value('max', true)).toBe(150);
    expect(await value('min', true)).toBe(10);
    expect(await value('avg', true)).toBe(80);
  });

  it('gives connection errors one point per window and reason, naming the reason', async () => {
    api = await startTestApi();
    const { recorder } = api.deviceMetrics;
    recordAt(T0 - 5 * MINUTE, () => recorder.record('connection_error', null, 1, 'bad_credentials'));
    recorder.record('connection_error', 'a', 1, 'locked');
    recorder.record('connection_error', 'b', 1, 'bad_credentials');
    recorder.record('connection_error', 'b', 1, 'bad_credentials');
    expect(
      await api.ok('getDeviceMetrics', { metric_name: 'connection_error', aggregate_window: '1m' }),
    ).toEqual([
      { time: '2023-11-14T22:08:00.000000Z', value: 1, connection_error: 'bad_credentials' },
      { time: '2023-11-14T22:13:00.000000Z', value: 2, connection_error: 'bad_credentials' },
      { time: '2023-11-14T22:13:00.000000Z', value: 1, connection_error: 'locked' },
    ]);
    expect(
      await api.ok('getDeviceMetrics', {
        metric_name: 'connection_error',
        distinct: true,
        aggregate_window: '5m',
      }),
    ).toEqual([
      { time: '2023-11-14T22:10:00.000000Z', value: 1, connection_error: 'bad_credentials' },
      { time: '2023-11-14T22:10:00.000000Z', value: 1, connection_error: 'locked' },
    ]);
  });

  it('takes the minutes overlapping [start_time, end_time), leaves out empty windows, and pages with limit and offset', async () => {
    api = await startTestApi();
    const { recorder } = api.deviceMetrics;
    const minute0 = T0 - 20 * SECOND; // 22:13:00
    for (const i of [0, 1, 2, 4, 6])
      recordAt(minute0 - i * MINUTE, () => recorder.record('disconnection', 'a'));
    const times = async (params: Record<string, unknown>) =>
      (
        (
          await api.call('getDeviceMetrics', {
            metric_name: 'disconnection',
            aggregate_window: '1m',
            ...params,
          })
        ).body as { time: string }[]
      ).map((p) => p.time.slice(11, 16));
    expect(await times({})).toEqual(['22:07', '22:09', '22:11', '22:12', '22:13']);
    expect(await times({ start_time: T0_SECONDS - 250, end_time: T0_SECONDS - 80 })).toEqual([
      '22:09',
      '22:11',
    ]);
    expect(await times({ start_time: T0_SECONDS, end_time: T0_SECONDS })).toEqual([]);
    expect(await times({ limit: 2, offset: 1 })).toEqual(['22:09', '22:11']);
    expect(await times({ limit: 1 })).toEqual(['22:07']);
    expect(await times({ offset: 5 })).toEqual([]);
    expect(await times({ offset: 99_999_999 })).toEqual([]);
  });
});

describe('getDeviceMetrics refuses', () => {
  it.each([
    [{ aggregate_window: '2m' }, 'aggregate_window', '"1m", "5m" or "1h"'],
    [{ aggregate_fn: 'median' }, 'aggregate_fn', '"count", "max", "min", "sum" or "avg"'],
    [{ metric_name: 'bytes' }, 'metric_name', '"connection_error"'],
    [{ start_time: 999_999_999 }, 'start_time', '1000000000'],
    [{ start_time: 10_000_000_000 }, 'start_time', '9999999999'],
    [{ start_time: 1_700_000_000.5 }, 'start_time', 'integer'],
    [{ start_time: '1700000000' }, 'start_time', 'integer'],
    [{ end_time: 999_999_999 }, 'end_time', '1000000000'],
    [{ end_time: 10_000_000_000 }, 'end_time', '9999999999'],
    [{ limit: 0 }, 'limit', '1'],
    [{ limit: 2001 }, 'limit', '2000'],
    [{ offset: -1 }, 'offset', '0'],
    [{ offset: 'x' }, 'offset', 'integer'],
    [{ distinct: 'yes' }, 'distinct', 'boolean'],
    [{ window: '1m' }, 'window', 'not a known parameter'],
  ])('%j with 400 naming the parameter', async (params, parameter, detail) => {
    api = await startTestApi();
    expect(assertError(await api.call('getDeviceMetrics', params), 400, parameter)).toContain(detail);
  });

  it('includes what was recorded in the first second of the current minute when end_time is now', async () => {
    api = await startTestApi();
    const minuteStart = Math.ceil(api.clock.now / MINUTE) * MINUTE;
    api.clock.now = minuteStart + 300_000; // 0.3 s into a minute
    await api.ok('addIdentity', { identity: 'a' });
    expect((await api.ok('getDeviceMetrics', { metric_name: 'whitelisted' })).map((p) => p.value)).toEqual([
      1,
    ]);
  });

  it('a start_time after end_time, or after now without end_time, with 400 naming start_time', async () => {
    api = await startTestApi();
    assertError(
      await api.call('getDeviceMetrics', { start_time: T0_SECONDS, end_time: T0_SECONDS - 1 }),
      400,
      'start_time',
    );
    assertError(await api.call('getDeviceMetrics', { start_time: T0_SECONDS + 1 }), 400, 'start_time');
    expect((await api.call('getDeviceMetrics', { start_time: T0_SECONDS })).status).toBe(200);
  });
});
