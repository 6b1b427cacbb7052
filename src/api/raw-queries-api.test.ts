import { afterEach, describe, expect, it } from 'vitest';
import { assertError, SECOND, startTestApi, T0, type TestApi } from './test-api.js';

/* T0 is 2023-11-14T22:13:20Z. */
const DAY = 86_400 * SECOND;
const S = T0 / SECOND;

let api: TestApi;
afterEach(async () => {
  await api.close();
});

type Item = { identity: string; signal?: string; resource?: string; reported_time: number; value: unknown };

/** temp of d1 every 10 s from T0 - 100 s; temp of d2 and on of d1 at three times. */
async function setup() {
  api = await startTestApi();
  await api.ok('addResource', { alias: 'temp', format: 'number' });
  await api.ok('addResource', { alias: 'on', format: 'boolean' });
  for (const identity of ['d1', 'd2', 'd3']) await api.ok('addIdentity', { identity });
  await api.ok('publishData', {
    identity: 'd1',
    payload: Array.from({ length: 10 }, (_, i) => ({ timestamp: S - 100 + i * 10, values: { temp: i } })),
  });
  await api.ok('publishData', {
    identity: 'd2',
    payload: [5, 15, 25].map((t) => ({ timestamp: S - 100 + t, values: { temp: 100 + t } })),
  });
  await api.ok('publishData', {
    identity: 'd1',
    payload: [5, 15, 25].map((t, i) => ({ timestamp: S - 100 + t, values: { on: i % 2 === 0 } })),
  });
}

const values = (data: unknown[]) => (data as Item[]).map((item) => item.value);

describe('querySignal, querySignals and queryResource', () => {
  it('by default answer the newest 1000 samples of the last 7 days, newest first, times in µs, echoing the query', async () => {
    await setup();
    await api.ok('publishData', {
      identity: 'd1',
      payload: [{ timestamp: S - 8 * 86_400, values: { temp: -1 } }],
    });
    const answer = await api.ok('querySignal', { identity: 'd1', signal: 'temp' });
    expect(answer.q).toEqual({
      identities: ['d1'],
      signals: ['temp'],
      start_time: T0 - 7 * DAY,
      end_time: T0,
      epoch: 'us',
      limit: 1000,
      page: 1,
      group: false,
      sort: 'report',
      order: 'desc',
    });
    expect(values(answer.data)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(answer.data[0]).toEqual({
      identity: 'd1',
      signal: 'temp',
      reported_time: T0 - 10 * SECOND,
      server_time: T0,
      value: 9,
    });
  });

  it('take start_time (included) and end_time (excluded) in seconds with fraction digits, to the precision of epoch', async () => {
    await setup();
    const range = (params: object) =>
      api.ok('querySignal', { identity: 'd1', signal: 'temp', order: 'asc', ...params });
    expect(values((await range({ start_time: S - 80, end_time: S - 50 })).data)).toEqual([2, 3, 4]);
    expect(values((await range({ start_time: S - 80.5, end_time: S - 49.999999 })).data)).toEqual([
      2, 3, 4, 5,
    ]);
    // epoch s keeps whole seconds: 49.5 is taken as 50.
    const seconds = await range({ start_time: S - 80.5, end_time: S - 49.5, epoch: 's' });
    expect(values(seconds.data)).toEqual([2, 3, 4]);
    expect(seconds.q).toMatchObject({ start_time: S - 81, end_time: S - 50, epoch: 's' });
    expect(seconds.data[0]).toMatchObject({ reported_time: S - 80, server_time: S });
    const millis = await range({ start_time: S - 80.0004, end_time: S - 50, epoch: 'ms' });
    expect(millis.q).toMatchObject({ start_time: (T0 - 80 * SECOND) / 1000 - 1, epoch: 'ms' });
    expect(millis.data[0]).toMatchObject({ reported_time: (T0 - 80 * SECOND) / 1000 });
    // Only one bound: the other is now, or 7 days before end_time.
    expect(values((await range({ start_time: S - 25 })).data)).toEqual([8, 9]);
    expect((await range({ end_time: S - 50 })).q).toMatchObject({ start_time: T0 - 50 * SECOND - 7 * DAY });
  });

  it('page by limit, without overlap or gap, across partitions', async () => {
    await setup();
    // Samples on both sides of a month boundary: two partitions.
    const boundary = Date.UTC(2023, 10, 1) / 1000;
    await api.ok('publishData', {
      identity: 'd3',
      payload: Array.from({ length: 25 }, (_, i) => ({ timestamp: boundary - 12 + i, values: { temp: i } })),
    });
    const window = { start_time: boundary - 3600, end_time: boundary + 3600 };
    const page = async (page: number, order: 'asc' | 'desc' = 'desc') =>
      values(
        (await api.ok('querySignal', { identity: 'd3', signal: 'temp', limit: 10, page, order, ...window }))
          .data,
      );
    expect(await page(1)).toEqual([24, 23, 22, 21, 20, 19, 18, 17, 16, 15]);
    expect(await page(2)).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5]);
    expect(await page(3)).toEqual([4, 3, 2, 1, 0]);
    expect(await page(4)).toEqual([]);
    expect(await page(2, 'asc')).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(await page(999_999_999_999_999)).toEqual([]);
  });

  it('sort by server time on request, and merge signals of querySignals by time', async () => {
    await setup();
    // A late sample: reported before the others, stored after them.
    api.clock.advance(SECOND);
    await api.ok('publishData', { identity: 'd1', payload: [{ timestamp: S - 200, values: { temp: 42 } }] });
    const bySort = async (sort: 'report' | 'server') =>
      values((await api.ok('querySignal', { identity: 'd1', signal: 'temp', sort, limit: 2 })).data);
    expect(await bySort('report')).toEqual([9, 8]);
    expect(await bySort('server')).toEqual([42, 9]);
    const merged = await api.ok('querySignals', {
      identity: 'd1',
      start_time: S - 80,
      end_time: S - 60,
      order: 'asc',
    });
    expect(merged.q.signals).toEqual(['on', 'temp']);
    expect((merged.data as Item[]).map((i) => [i.signal, i.value])).toEqual([
      ['temp', 2],
      ['on', true],
      ['temp', 3],
    ]);
    const one = await api.ok('querySignals', { identity: 'd1', signals: ['on'] });
    expect(values(one.data)).toEqual([true, false, true]);
  });

  it('group the items by signal id on request', async () => {
    await setup();
    const grouped = await api.ok('querySignals', {
      identity: 'd1',
      start_time: S - 80,
      end_time: S - 60,
      group: true,
      epoch: 's',
    });
    expect(grouped.q.group).toBe(true);
    expect(grouped.data).toEqual([
      {
        id: 'd1/temp',
        identity: 'd1',
        signal: 'temp',
        values: [
          { reported_time: S - 70, server_time: S, value: 3 },
          { reported_time: S - 80, server_time: S, value: 2 },
        ],
      },
      {
        id: 'd1/on',
        identity: 'd1',
        signal: 'on',
        values: [{ reported_time: S - 75, server_time: S, value: true }],
      },
    ]);
  });

  it('queryResource reads the listed identities, or every identity with data of the resource', async () => {
    await setup();
    const all = await api.ok('queryResource', { resource: 'temp', start_time: S - 90, end_time: S - 70 });
    expect(all.q).toMatchObject({ resource: 'temp', identities: ['d1', 'd2'] });
    expect((all.data as Item[]).map((i) => [i.identity, i.resource, i.value])).toEqual([
      ['d2', 'temp', 125],
      ['d1', 'temp', 2],
      ['d2', 'temp', 115],
      ['d1', 'temp', 1],
    ]);
    const listed = await api.ok('queryResource', { resource: 'temp', identities: ' d2 ,d3,d2', limit: 2 });
    expect(listed.q.identities).toEqual(['d2', 'd3']);
    expect(values(listed.data)).toEqual([125, 115]);
    expect(values((await api.ok('queryResource', { resource: 'on', identities: 'd1' })).data)).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('refuse bad parameters with 400 and unknown identities, signals and resources with 404, naming them', async () => {
    await setup();
    const signal = (params: object) => api.call('querySignal', { identity: 'd1', signal: 'temp', ...params });
    assertError(await signal({ start_time: S - 10, end_time: S - 20 }), 400, 'end_time');
    assertError(await signal({ start_time: S + 100 }), 400, 'end_time');
    assertError(await signal({ start_time: 999_999_999 }), 400, 'start_time');
    assertError(await signal({ end_time: 10_000_000_000 }), 400, 'end_time');
    assertError(await signal({ limit: 0 }), 400, 'limit');
    assertError(await signal({ limit: 10_001 }), 400, 'limit');
    assertError(await signal({ limit: 1.5 }), 400, 'limit');
    assertError(await signal({ page: 0 }), 400, 'page');
    assertError(await signal({ page: 1_000_000_000_000_000 }), 400, 'page');
    assertError(await signal({ epoch: 'ns' }), 400, 'epoch');
    assertError(await signal({ sort: 'time' }), 400, 'sort');
    assertError(await signal({ order: 'up' }), 400, 'order');
    assertError(await signal({ bucket: '1h' }), 400, 'bucket');
    assertError(await api.call('querySignal', { identity: 'd1' }), 400, 'signal');
    assertError(await api.call('querySignal', { identity: 'nobody', signal: 'temp' }), 404, 'identity');
    assertError(await api.call('querySignal', { identity: 'd1', signal: 'humidity' }), 404, 'signal');
    assertError(
      await api.call('querySignals', { identity: 'd1', signals: ['temp', 'nope'] }),
      404,
      'signals',
    );
    assertError(await api.call('querySignals', { identity: 'nobody' }), 404, 'identity');
    assertError(await api.call('querySignals', { identity: 'd1', signals: [] }), 400, 'signals');
    assertError(await api.call('queryResource', { resource: 'humidity' }), 404, 'resource');
    assertError(
      await api.call('queryResource', { resource: 'temp', identities: 'd1,nobody' }),
      404,
      'identities',
    );
    assertError(
      await api.call('queryResource', { resource: 'temp', identities: 'd1,,d2' }),
      400,
      'identities',
    );
    assertError(
      await api.call('queryResource', { resource: 'temp', identities: 'd1,a/b' }),
      400,
      'identities',
    );
    assertError(await api.call('queryResource', { resource: 'temp', identities: '' }), 400, 'identities');
    assertError(await api.call('queryResource', {}), 400, 'resource');
  });
});
