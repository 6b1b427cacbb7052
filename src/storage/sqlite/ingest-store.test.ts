import { describe, expect, it } from 'vitest';
import { openIngestStore, temperatureSamples } from './test-ingest.js';
import { writeDurably } from '../../core/write-durably.js';

const NOV_2026 = Date.UTC(2026, 10, 26) * 1000;
const DEC_2026 = Date.UTC(2026, 11, 1) * 1000;

const setup = () => openIngestStore(['a', 'b']);

const write = (identity: string, values: [number, number][]) => ({
  identity,
  samples: temperatureSamples(values),
  state: values.map(([timestamp, value]) => ({ resource: 'temp', set: value, reported: value, timestamp })),
  seen: { at: NOV_2026, ip: '10.0.0.1' },
});

describe('the SQLite ingest store', () => {
  it('stores every sample of writes that share one commit, however many rows they add up to', async () => {
    const { store, read } = await setup();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        writeDurably(store.ingest, write(i % 2 ? 'a' : 'b', [[NOV_2026 + i, i]])),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
    await store.close();
    const rows = read<{ n: number; total: number }>(
      'SELECT count(*) AS n, sum(value) AS total FROM samples_r12_202611',
    );
    expect(rows).toEqual([{ n: 300, total: (299 * 300) / 2 }]);
  });

  it('puts samples in the partition of their month, creating it on first use', async () => {
    const { store, read } = await setup();
    await writeDurably(
      store.ingest,
      write('a', [
        [NOV_2026, 1],
        [DEC_2026, 2],
        [DEC_2026 - 1, 3],
      ]),
    );
    await store.close();
    expect(
      read('SELECT retention, month, table_name, rollup_table FROM sample_partitions ORDER BY month'),
    ).toEqual([
      { retention: 12, month: 202611, table_name: 'samples_r12_202611', rollup_table: 'rollups_r12_202611' },
      { retention: 12, month: 202612, table_name: 'samples_r12_202612', rollup_table: 'rollups_r12_202612' },
    ]);
    expect(read('SELECT value FROM samples_r12_202611 ORDER BY timestamp')).toEqual([
      { value: 1 },
      { value: 3 },
    ]);
    expect(read('SELECT value FROM samples_r12_202612')).toEqual([{ value: 2 }]);
  });

  it('keeps the newest state of a batch, never rolls the stored state back, and tells which state it kept', async () => {
    const { store } = await setup();
    const first = await Promise.all([
      writeDurably(store.ingest, write('a', [[NOV_2026 + 5, 5]])),
      writeDurably(store.ingest, write('a', [[NOV_2026 + 9, 9]])),
      writeDurably(store.ingest, write('a', [[NOV_2026 + 7, 7]])),
    ]);
    expect(first).toEqual([true, true, { kept: ['temp'] }]);
    const older = await Promise.all([
      writeDurably(store.ingest, write('a', [[NOV_2026 + 1, 1]])),
      writeDurably(store.ingest, write('a', [[NOV_2026 + 2, 2]])),
      writeDurably(store.ingest, write('b', [[NOV_2026 + 1, 1]])),
    ]);
    expect(older).toEqual([{ kept: ['temp'] }, { kept: ['temp'] }, true]);
    // Within one commit, as if committed one by one: older than the stored state, or than an
    // earlier state of the same batch, is kept.
    const mixed = await Promise.all([
      writeDurably(store.ingest, write('b', [[NOV_2026 + 20, 20]])),
      writeDurably(store.ingest, write('b', [[NOV_2026 + 15, 15]])),
      writeDurably(store.ingest, write('a', [[NOV_2026 + 8, 8]])),
      writeDurably(store.ingest, write('a', [[NOV_2026 + 12, 12]])),
    ]);
    expect(mixed).toEqual([true, { kept: ['temp'] }, { kept: ['temp'] }, true]);
    expect((await store.identities.get('a'))?.state.temp).toEqual({
      set: 12,
      reported: 12,
      timestamp: NOV_2026 + 12,
    });
    expect((await store.identities.get('b'))?.state.temp).toMatchObject({ reported: 20 });
    expect(await store.identities.get('a')).toMatchObject({ lastseen: NOV_2026, lastip: '10.0.0.1' });
    await store.close();
  });

  it('writes nothing for an identity that no longer exists, without failing the others of its batch', async () => {
    const { store, read } = await setup();
    const [gone, kept] = await Promise.all([
      writeDurably(store.ingest, write('nobody', [[NOV_2026, 1]])),
      writeDurably(store.ingest, write('b', [[NOV_2026, 2]])),
    ]);
    expect([gone, kept]).toEqual([false, true]);
    await store.close();
    expect(read('SELECT identity, value FROM samples_r12_202611')).toEqual([{ identity: 'b', value: 2 }]);
  });

  it('replaces a sample written again at the same time, so a replay leaves no duplicate', async () => {
    const { store, read } = await setup();
    await writeDurably(store.ingest, write('a', [[NOV_2026, 1]]));
    await writeDurably(store.ingest, write('a', [[NOV_2026, 4]]));
    await store.close();
    expect(read('SELECT value FROM samples_r12_202611')).toEqual([{ value: 4 }]);
  });

  it("answers the rest of a batch, and commits the next ones, when a writer's callback throws", async () => {
    const thrown: unknown[] = [];
    const { store, read } = await openIngestStore(['a', 'b'], undefined, {
      onIngestCallbackError: (error) => thrown.push(error),
    });
    const outcomes: unknown[] = [];
    store.ingest.write(write('a', [[NOV_2026, 1]]), () => {
      throw new Error('a bug of the caller');
    });
    store.ingest.write(write('b', [[NOV_2026, 2]]), (outcome) => outcomes.push(outcome));
    expect(await writeDurably(store.ingest, write('b', [[NOV_2026 + 1, 3]]))).toBe(true);
    expect(outcomes).toEqual([true]);
    expect(thrown).toEqual([new Error('a bug of the caller')]);
    await store.close();
    expect(read('SELECT value FROM samples_r12_202611 ORDER BY value')).toEqual([
      { value: 1 },
      { value: 2 },
      { value: 3 },
    ]);
  });
});
