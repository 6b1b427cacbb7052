import { afterEach, describe, expect, it } from 'vitest';
import { assertError, SECOND, startTestApi, T0, type TestApi } from './test-api.js';
import { writeDurably } from '../core/write-durably.js';

const DAY = 86_400 * SECOND;
const S = T0 / SECOND;

let api: TestApi;
afterEach(async () => {
  await api.close();
});

async function setup() {
  api = await startTestApi();
  await api.ok('addResource', { alias: 'temp', format: 'number' });
  await api.ok('addResource', { alias: 'on', format: 'boolean' });
  await api.ok('addResource', { alias: 'mode', format: 'string', allowed: ['eco', 'max'] });
  await api.ok('addIdentity', { identity: 'd1' });
}

const samples = async (signal: string) =>
  (await api.ok('querySignal', { identity: 'd1', signal, order: 'asc' })).data;

describe('publishData', () => {
  it('stores every value with its timestamp (s, ms or µs) and the server time of the write', async () => {
    await setup();
    api.clock.advance(5);
    await api.ok('publishData', {
      identity: 'd1',
      payload: [
        { timestamp: S - 30, values: { temp: 1 } },
        { timestamp: (T0 - 20 * SECOND) / 1000, values: { temp: 2, on: true } },
        { timestamp: T0 - 10 * SECOND + 7, values: { temp: 3.5, mode: 'eco', on: false } },
      ],
    });
    expect(await samples('temp')).toEqual([
      { identity: 'd1', signal: 'temp', reported_time: T0 - 30 * SECOND, server_time: T0 + 5, value: 1 },
      { identity: 'd1', signal: 'temp', reported_time: T0 - 20 * SECOND, server_time: T0 + 5, value: 2 },
      {
        identity: 'd1',
        signal: 'temp',
        reported_time: T0 - 10 * SECOND + 7,
        server_time: T0 + 5,
        value: 3.5,
      },
    ]);
    expect((await samples('on')).map((s) => s.value)).toEqual([true, false]);
    expect((await samples('mode')).map((s) => s.value)).toEqual(['eco']);
  });

  it('makes the newest value of each resource its state, unless the stored state is newer, without device contact or data_in', async () => {
    await setup();
    await api.ok('publishData', {
      identity: 'd1',
      payload: [
        { timestamp: S - 20, values: { temp: 2 } },
        { timestamp: S - 30, values: { temp: 1 } },
      ],
    });
    expect((await api.ok('getIdentityState', { identity: 'd1' })).temp).toEqual({
      set: 2,
      reported: 2,
      timestamp: T0 - 20 * SECOND,
    });
    // History older than the state adds samples only.
    await api.ok('publishData', { identity: 'd1', payload: [{ timestamp: S - 100, values: { temp: 9 } }] });
    expect((await api.ok('getIdentityState', { identity: 'd1' })).temp?.reported).toBe(2);
    expect((await samples('temp')).map((s) => s.value)).toEqual([9, 1, 2]);
    expect((await api.ok('getIdentity', { identity: 'd1' })).lastseen ?? null).toBe(null);
    expect(api.events.filter((e) => e.type === 'data_in')).toEqual([]);
  });

  it('replaces a sample written again at the same time', async () => {
    await setup();
    await api.ok('publishData', { identity: 'd1', payload: [{ timestamp: S - 5, values: { temp: 1 } }] });
    await api.ok('publishData', { identity: 'd1', payload: [{ timestamp: S - 5, values: { temp: 4 } }] });
    expect((await samples('temp')).map((s) => s.value)).toEqual([4]);
  });

  it('takes values of signals the identity has besides resources (signal parser channels)', async () => {
    await setup();
    await writeDurably(api.store.ingest, {
      identity: 'd1',
      samples: [],
      signals: [{ signal: '001', resource: 'data_in', metadata: '{"display_name":"Temperature"}' }],
      state: [],
      seen: { at: T0, ip: null },
    });
    await api.ok('publishData', { identity: 'd1', payload: [{ timestamp: S - 5, values: { '001': 21.5 } }] });
    expect(await samples('001')).toEqual([
      { identity: 'd1', signal: '001', reported_time: T0 - 5 * SECOND, server_time: T0, value: 21.5 },
    ]);
    expect(await api.ok('getIdentityState', { identity: 'd1' })).toEqual({});
  });

  it('refuses timestamps beyond 1 day ahead or 10 years back, naming the entry', async () => {
    await setup();
    const at = (timestamp: number) =>
      api.call('publishData', { identity: 'd1', payload: [{ timestamp, values: { temp: 1 } }] });
    assertError(await at((T0 + DAY + SECOND) / SECOND), 400, 'payload[0].timestamp');
    assertError(await at((T0 - 3660 * DAY) / 1000), 400, 'payload[0].timestamp');
    assertError(await at(0), 400, 'payload[0].timestamp');
    expect(await at((T0 + DAY - SECOND) / SECOND)).toMatchObject({ status: 204 });
  });

  it('refuses the whole batch for one bad value, naming it, and stores nothing', async () => {
    await setup();
    const publish = (values: Record<string, unknown>) =>
      api.call('publishData', {
        identity: 'd1',
        payload: [
          { timestamp: S - 2, values: { temp: 1 } },
          { timestamp: S - 1, values },
        ],
      });
    assertError(await publish({ temp: 'warm' }), 400, 'payload[1].values.temp');
    assertError(await publish({ mode: 'turbo' }), 400, 'payload[1].values.mode');
    assertError(await publish({ on: 'maybe' }), 400, 'payload[1].values.on');
    assertError(await publish({ humidity: 3 }), 400, 'payload[1].values.humidity');
    // A defined resource is a signal of every identity, even before its first sample.
    expect(await samples('temp')).toEqual([]);
  });

  it('answers 404 for an unknown identity and 400 for malformed parameters', async () => {
    await setup();
    assertError(
      await api.call('publishData', { identity: 'nobody', payload: [{ timestamp: S, values: { temp: 1 } }] }),
      404,
      'nobody',
    );
    assertError(await api.call('publishData', { payload: [] }), 400, 'identity');
    assertError(await api.call('publishData', { identity: 'd1' }), 400, 'payload');
    assertError(
      await api.call('publishData', { identity: 'd1', payload: [{ values: {} }] }),
      400,
      'payload[0].timestamp',
    );
    assertError(
      await api.call('publishData', { identity: 'd1', payload: [{ timestamp: S }] }),
      400,
      'payload[0].values',
    );
    assertError(
      await api.call('publishData', { identity: 'd1', payload: [{ timestamp: 'now', values: {} }] }),
      400,
      'payload[0].timestamp',
    );
    expect(await api.call('publishData', { identity: 'd1', payload: [] })).toMatchObject({ status: 204 });
  });
});
