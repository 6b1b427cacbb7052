import { afterEach, describe, expect, it } from 'vitest';
import { assertError, SECOND, startTestApi, T0, type TestApi } from './test-api.js';

/* T0 is 2023-11-14T22:13:20Z. */
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const S = T0 / SECOND;

let api: TestApi;
afterEach(async () => {
  await api.close();
});

/** A deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Value = number | boolean | string;
type Bucket = {
  identity: string;
  signal: string;
  time: number;
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
};

/** count/sum/min/max per series and bucket of the samples in [from, to), newest bucket first. */
function bruteForce(
  samples: Map<string, Value>,
  widthUs: number,
  from: number,
  to: number,
  keep: (identity: string, signal: string) => boolean,
) {
  const buckets = new Map<string, Bucket>();
  for (const [key, value] of samples) {
    const [identity, signal, ts] = key.split('|') as [string, string, string];
    const timestamp = Number(ts);
    if (timestamp < from || timestamp >= to || !keep(identity, signal)) continue;
    const time = timestamp - (timestamp % widthUs);
    const id = `${identity}|${signal}|${time}`;
    let b = buckets.get(id);
    if (!b) buckets.set(id, (b = { identity, signal, time, count: 0, sum: null, min: null, max: null }));
    b.count++;
    const n = typeof value === 'boolean' ? Number(value) : typeof value === 'number' ? value : null;
    if (n === null) continue;
    b.sum = (b.sum ?? 0) + n;
    b.min = b.min === null ? n : Math.min(b.min, n);
    b.max = b.max === null ? n : Math.max(b.max, n);
  }
  return [...buckets.values()].sort(
    (x, y) => y.time - x.time || x.identity.localeCompare(y.identity) || x.signal.localeCompare(y.signal),
  );
}

/** Sums rounded: floating-point addition depends on the order of the terms. */
const rounded = (items: unknown[]) =>
  (items as Record<string, unknown>[]).map((item) => ({
    ...item,
    ...(typeof item.sum === 'number' && { sum: Math.round(item.sum * 1e6) / 1e6 }),
  }));

/** Random samples of temp (number), on (boolean) and label (string) of d1 and d2 over 3 hours. */
async function randomData(next: () => number) {
  api = await startTestApi();
  await api.ok('addResource', { alias: 'temp', format: 'number' });
  await api.ok('addResource', { alias: 'on', format: 'boolean' });
  await api.ok('addResource', { alias: 'label', format: 'string' });
  for (const identity of ['d1', 'd2']) await api.ok('addIdentity', { identity });
  const samples = new Map<string, Value>();
  for (let batch = 0; batch < 40; batch++) {
    const identity = next() < 0.5 ? 'd1' : 'd2';
    const payload = [];
    for (let i = 0; i < 30; i++) {
      // Out of order, and often at a time already written: a replacement.
      const timestamp =
        T0 - 3 * HOUR + Math.floor(next() * 600) * 18 * SECOND + Math.floor(next() * 3) * 1000;
      const signal = ['temp', 'on', 'label'][Math.floor(next() * 3)]!;
      const value =
        signal === 'temp'
          ? Math.round(next() * 1000 - 500) / 10
          : signal === 'on'
            ? next() < 0.5
            : `l${Math.floor(next() * 5)}`;
      payload.push({ timestamp, values: { [signal]: value } });
      samples.set(`${identity}|${signal}|${timestamp}`, value);
    }
    await api.ok('publishData', { identity, payload });
  }
  return samples;
}

const WIDTHS = { '1m': MINUTE, '5m': 5 * MINUTE, '1h': HOUR } as const;

describe('aggrquerySignal, aggrquerySignals and aggrqueryResource', () => {
  it('equal a brute-force computation over random, out-of-order and replaced data, for any window and bucket', async () => {
    const next = random(7);
    const samples = await randomData(next);
    for (let round = 0; round < 12; round++) {
      const bucket = (['1m', '5m', '1h'] as const)[round % 3]!;
      // Windows start and end anywhere, to the µs: buckets they cut count only what is inside.
      const from = T0 - 3 * HOUR - HOUR / 2 + Math.floor(next() * 2 * HOUR);
      const to = from + Math.floor(next() * 3 * HOUR);
      const window = { start_time: from / SECOND, end_time: to / SECOND, bucket, limit: 10_000 };
      const widthUs = WIDTHS[bucket];
      const signal = await api.ok('aggrquerySignal', { identity: 'd1', signal: 'temp', ...window });
      expect(rounded(signal.data)).toEqual(
        rounded(bruteForce(samples, widthUs, from, to, (i, s) => i === 'd1' && s === 'temp')),
      );
      const signals = await api.ok('aggrquerySignals', { identity: 'd2', ...window });
      expect(rounded(signals.data)).toEqual(
        rounded(bruteForce(samples, widthUs, from, to, (i) => i === 'd2')),
      );
      const resource = await api.ok('aggrqueryResource', { resource: 'on', ...window });
      const expected = bruteForce(samples, widthUs, from, to, (_, s) => s === 'on').map(
        ({ signal, ...rest }) => ({
          ...rest,
          resource: signal,
        }),
      );
      expect(rounded(resource.data)).toEqual(rounded(expected));
    }
  });

  it('answer the four fields by default, or the ones asked, newest bucket first, paged and grouped on request', async () => {
    api = await startTestApi();
    await api.ok('addResource', { alias: 'temp', format: 'number' });
    await api.ok('addResource', { alias: 'label', format: 'string' });
    await api.ok('addIdentity', { identity: 'd1' });
    const start = Math.floor(T0 / HOUR) * HOUR - 5 * HOUR;
    await api.ok('publishData', {
      identity: 'd1',
      payload: Array.from({ length: 5 }, (_, h) => ({
        timestamp: (start + h * HOUR + 10 * SECOND) / SECOND,
        values: { temp: h, label: `h${h}` },
      })),
    });
    const answer = await api.ok('aggrquerySignal', { identity: 'd1', signal: 'temp', epoch: 's' });
    expect(answer.q).toEqual({
      identities: ['d1'],
      signals: ['temp'],
      start_time: S - 7 * 86_400,
      end_time: S,
      epoch: 's',
      limit: 1000,
      page: 1,
      group: false,
      bucket: '1h',
      fields: ['count', 'max', 'min', 'sum'],
    });
    expect(answer.data[0]).toEqual({
      identity: 'd1',
      signal: 'temp',
      time: (start + 4 * HOUR) / SECOND,
      count: 1,
      max: 4,
      min: 4,
      sum: 4,
    });
    expect(answer.data.map((d) => ('time' in d ? d.time : 0))).toEqual(
      [4, 3, 2, 1, 0].map((h) => (start + h * HOUR) / SECOND),
    );
    const labels = await api.ok('aggrquerySignal', {
      identity: 'd1',
      signal: 'label',
      fields: ['sum', 'count'],
      limit: 2,
      page: 2,
    });
    expect(labels.data).toEqual([
      { identity: 'd1', signal: 'label', time: start + 2 * HOUR, sum: null, count: 1 },
      { identity: 'd1', signal: 'label', time: start + HOUR, sum: null, count: 1 },
    ]);
    const grouped = await api.ok('aggrquerySignals', {
      identity: 'd1',
      fields: ['max'],
      group: true,
      limit: 3,
    });
    expect(grouped.data).toEqual([
      {
        id: 'd1/label',
        identity: 'd1',
        signal: 'label',
        values: [
          { time: start + 4 * HOUR, max: null },
          { time: start + 3 * HOUR, max: null },
        ],
      },
      { id: 'd1/temp', identity: 'd1', signal: 'temp', values: [{ time: start + 4 * HOUR, max: 4 }] },
    ]);
  });

  it('refuse unknown buckets and fields, bad ranges and paging with 400, unknown series with 404, naming them', async () => {
    api = await startTestApi();
    await api.ok('addResource', { alias: 'temp', format: 'number' });
    await api.ok('addIdentity', { identity: 'd1' });
    const aggr = (params: object) =>
      api.call('aggrquerySignal', { identity: 'd1', signal: 'temp', ...params });
    expect((await aggr({})).status).toBe(200);
    assertError(await aggr({ bucket: '2m' }), 400, 'bucket');
    assertError(await aggr({ fields: ['avg'] }), 400, 'fields[0]');
    assertError(await aggr({ fields: [] }), 400, 'fields');
    assertError(await aggr({ fields: ['max', 'max'] }), 400, 'fields');
    assertError(await aggr({ start_time: S, end_time: S - 1 }), 400, 'end_time');
    assertError(await aggr({ limit: 10_001 }), 400, 'limit');
    assertError(await aggr({ page: 0 }), 400, 'page');
    assertError(await aggr({ sort: 'server' }), 400, 'sort');
    assertError(await api.call('aggrquerySignal', { identity: 'd1', signal: 'nope' }), 404, 'signal');
    assertError(await api.call('aggrquerySignals', { identity: 'nobody' }), 404, 'identity');
    assertError(await api.call('aggrqueryResource', { resource: 'nope' }), 404, 'resource');
    assertError(
      await api.call('aggrqueryResource', { resource: 'temp', identities: 'd1,' }),
      400,
      'identities',
    );
  });
});
