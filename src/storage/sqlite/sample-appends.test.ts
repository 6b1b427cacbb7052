import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { NOV_2026, openIngestStore, pollUntil, temperatureQuery, temperatureSamples } from './test-ingest.js';

const DEVICES = ['a', 'b'];

const setup = (file?: string) => openIngestStore(DEVICES, file);

const write = (identity: string, values: [number, number][]) => ({
  identity,
  samples: temperatureSamples(values),
  state: [],
  seen: { at: NOV_2026, ip: null },
});

/** 16 samples a microsecond apart from `from`, valued from `base`: a dense commit. */
const run = (from: number, base: number) =>
  Array.from({ length: 16 }, (_, k): [number, number] => [NOV_2026 + from + k, base + k]);

const everything = (identities = DEVICES) => temperatureQuery(identities);

const count = (read: <T>(sql: string) => T[], table: string) =>
  read<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)[0]!.n;

describe('appended samples', () => {
  it('appends the samples of a series that only grows, with its rollups and signal in the same commit', async () => {
    const { store, read } = await setup();
    // A series never seen has no newest value to compare with: its first commit is inserted.
    await store.ingest.write(write('a', run(0, 0)));
    expect(count(read, 'appended_samples')).toBe(0);
    await store.ingest.write(write('a', run(16, 16)));
    expect(count(read, 'appended_samples')).toBe(16);
    expect(count(read, 'samples_r12_202611')).toBe(16);
    expect(read('SELECT count, sum FROM rollups_r12_202611 WHERE width = 60')).toEqual([
      { count: 32, sum: (31 * 32) / 2 },
    ]);
    expect(read("SELECT last_value, last_update FROM signals WHERE identity = 'a'")).toEqual([
      { last_value: 31, last_update: NOV_2026 + 31 },
    ]);
    await pollUntil(() => count(read, 'appended_samples') === 0);
    expect(count(read, 'appended_samples')).toBe(0);
    expect(
      read<{ value: number }>('SELECT value FROM samples_r12_202611 ORDER BY timestamp').map((r) => r.value),
    ).toEqual(Array.from({ length: 32 }, (_, k) => k));
    await store.close();
  });

  it('shows appended samples to queries at once', async () => {
    const { store } = await setup();
    await store.ingest.write(write('a', run(0, 0)));
    await store.ingest.write(write('a', run(16, 16)));
    const samples = await store.series.raw(everything(['a']));
    expect(samples.map((s) => s.value)).toEqual(Array.from({ length: 32 }, (_, k) => k));
    await store.close();
  });

  it('lets a late sample replace an appended one, keeping rollups exact', async () => {
    const { store } = await setup();
    await store.ingest.write(write('a', run(0, 0)));
    await store.ingest.write(write('a', run(16, 16)));
    // Not newer than the series' newest: inserted, after the appended samples are in place.
    await store.ingest.write(write('a', [[NOV_2026 + 20, 999]]));
    const samples = await store.series.raw(everything(['a']));
    expect(samples).toHaveLength(32);
    expect(samples.find((s) => s.timestamp === NOV_2026 + 20)?.value).toBe(999);
    const [bucket] = await store.series.rollups({ ...everything(['a']), width: 60 });
    expect(bucket).toMatchObject({ count: 32, sum: (31 * 32) / 2 - 20 + 999, max: 999 });
    await store.close();
  });

  it('inserts the samples of a series that went back in time, while other series of the commit append', async () => {
    const { store, read } = await setup();
    await Promise.all([store.ingest.write(write('a', run(0, 0))), store.ingest.write(write('b', run(0, 0)))]);
    await Promise.all([
      store.ingest.write(write('a', run(16, 16))),
      // b repeats a time it already has: its samples may replace stored ones.
      store.ingest.write(write('b', run(15, 100))),
    ]);
    expect(read('SELECT DISTINCT identity FROM appended_samples')).toEqual([{ identity: 'a' }]);
    const b = await store.series.raw(everything(['b']));
    expect(b).toHaveLength(31);
    expect(b.find((s) => s.timestamp === NOV_2026 + 15)?.value).toBe(100);
    const [bucket] = await store.series.rollups({ ...everything(['b']), width: 3600 });
    expect(bucket).toMatchObject({ count: 31, sum: (14 * 15) / 2 + (100 + 115) * 8 });
    await store.close();
  });

  it('appends nothing for samples out of order within one commit', async () => {
    const { store, read } = await setup();
    await store.ingest.write(write('a', run(0, 0)));
    await store.ingest.write(write('a', [...run(32, 32), [NOV_2026 + 20, 20]]));
    expect(count(read, 'appended_samples')).toBe(0);
    expect(await store.series.raw(everything(['a']))).toHaveLength(33);
    await store.close();
  });

  it('moves samples left appended by a crash when the database opens again', async () => {
    const { store, file } = await setup();
    await store.close();
    // What a commit leaves behind when the process dies before the mover ran (class 12, 2026-11).
    const db = new Database(file);
    const append = db.prepare(
      `INSERT INTO appended_samples (part, identity, resource, timestamp, received_at, value)
       VALUES (12202611, 'a', 'temp', ?, ?, ?)`,
    );
    append.run(NOV_2026 + 1, NOV_2026 + 1, 5);
    append.run(NOV_2026, NOV_2026, 3);
    db.close();
    const reopened = await setup(file);
    expect(count(reopened.read, 'appended_samples')).toBe(0);
    expect(reopened.read('SELECT value FROM samples_r12_202611 ORDER BY timestamp')).toEqual([
      { value: 3 },
      { value: 5 },
    ]);
    await reopened.store.close();
  });
});
