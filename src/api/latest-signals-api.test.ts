import { afterEach, describe, expect, it } from 'vitest';
import { assertError, SECOND, startTestApi, T0, type TestApi } from './test-api.js';

const S = T0 / SECOND;

let api: TestApi;
afterEach(async () => {
  await api.close();
});

/** d1 and d2 with temp and on, d3 with temp only; d1's temp has a late, older sample. */
async function setup() {
  api = await startTestApi();
  await api.ok('addResource', { alias: 'temp', format: 'number' });
  await api.ok('addResource', { alias: 'on', format: 'boolean' });
  for (const identity of ['d1', 'd2', 'd3']) await api.ok('addIdentity', { identity });
  await api.ok('publishData', {
    identity: 'd1',
    payload: [{ timestamp: S - 10.5, values: { temp: 21.5, on: true } }],
  });
  api.clock.advance(2 * SECOND);
  await api.ok('publishData', { identity: 'd1', payload: [{ timestamp: S - 60, values: { temp: 3 } }] });
  await api.ok('publishData', {
    identity: 'd2',
    payload: [{ timestamp: S - 5, values: { temp: 7, on: false } }],
  });
  await api.ok('publishData', { identity: 'd3', payload: [{ timestamp: S - 1, values: { temp: 9 } }] });
}

const ids = (data: { signal_id: string }[]) => data.map((d) => d.signal_id);

describe('latestSignalsSearch', () => {
  it('answers the newest value of each signal by reported time, with the reference fields, by identity', async () => {
    await setup();
    const answer = await api.ok('latestSignalsSearch', {});
    expect(answer.q).toEqual({ page: 1, limit: 100, reverse: false, sort_key: 'identity' });
    expect(answer.total).toBe(5);
    expect(answer.data.slice(0, 2)).toEqual([
      {
        identity: 'd1',
        resource: 'on',
        signal_id: 'd1/on',
        signal_name: 'on',
        last_value: 'true',
        last_insert: '2023-11-14T22:13:20.000000Z',
        last_update: '2023-11-14T22:13:09.500000Z',
      },
      {
        identity: 'd1',
        resource: 'temp',
        signal_id: 'd1/temp',
        signal_name: 'temp',
        last_value: '21.5',
        last_insert: '2023-11-14T22:13:20.000000Z',
        last_update: '2023-11-14T22:13:09.500000Z',
      },
    ]);
    expect(ids(answer.data)).toEqual(['d1/on', 'd1/temp', 'd2/on', 'd2/temp', 'd3/temp']);
  });

  it('sorts by identity or signal, either way, and pages with a total of every match', async () => {
    await setup();
    const search = async (params: object) => api.ok('latestSignalsSearch', params);
    expect(ids((await search({ reverse: true })).data)).toEqual([
      'd3/temp',
      'd2/temp',
      'd2/on',
      'd1/temp',
      'd1/on',
    ]);
    expect(ids((await search({ sort_key: 'signal' })).data)).toEqual([
      'd1/on',
      'd2/on',
      'd1/temp',
      'd2/temp',
      'd3/temp',
    ]);
    expect(ids((await search({ sort_key: 'signal', reverse: true })).data)).toEqual([
      'd3/temp',
      'd2/temp',
      'd1/temp',
      'd2/on',
      'd1/on',
    ]);
    const page2 = await search({ limit: 2, page: 2 });
    expect(ids(page2.data)).toEqual(['d2/on', 'd2/temp']);
    expect(page2.total).toBe(5);
    expect(page2.q).toEqual({ page: 2, limit: 2, reverse: false, sort_key: 'identity' });
    expect((await search({ limit: 2, page: 4 })).data).toEqual([]);
  });

  it('filters by identities and signals; names matching nothing are no error', async () => {
    await setup();
    const filtered = await api.ok('latestSignalsSearch', {
      identities: ['d2', 'd3', 'nobody'],
      signals: ['temp'],
    });
    expect(ids(filtered.data)).toEqual(['d2/temp', 'd3/temp']);
    expect(filtered.total).toBe(2);
    expect(filtered.q).toMatchObject({ identities: ['d2', 'd3', 'nobody'], signals: ['temp'] });
    expect((await api.ok('latestSignalsSearch', { signals: ['humidity'] })).total).toBe(0);
  });

  it('forgets the signals of a removed identity', async () => {
    await setup();
    await api.ok('removeIdentity', { identity: 'd1' });
    expect(ids((await api.ok('latestSignalsSearch', {})).data)).toEqual(['d2/on', 'd2/temp', 'd3/temp']);
  });

  it('refuses bad parameters naming them', async () => {
    await setup();
    const search = (params: object) => api.call('latestSignalsSearch', params);
    assertError(await search({ limit: 0 }), 400, 'limit');
    assertError(await search({ limit: 2001 }), 400, 'limit');
    assertError(await search({ page: 0 }), 400, 'page');
    assertError(await search({ sort_key: 'time' }), 400, 'sort_key');
    assertError(await search({ reverse: 'yes' }), 400, 'reverse');
    assertError(await search({ identities: 'd1' }), 400, 'identities');
    assertError(await search({ signals: [''] }), 400, 'signals[0]');
  });
});
