import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sql as stagedSamplesTable } from './migrations/010-staged-samples.js';
import { NOV_2026, openIngestStore, pollUntil, temperatureQuery, temperatureSamples } from './test-ingest.js';
import { writeDurably } from '../../core/write-durably.js';

const DEVICES = ['a', 'b', 'c', 'd'];

const setup = (file?: string) => openIngestStore(DEVICES, file);

const write = (identity: string, values: [number, number][], at = NOV_2026) => ({
  identity,
  samples: temperatureSamples(values),
  state: [],
  seen: { at, ip: null },
});

const everything = (identities = DEVICES) => temperatureQuery(identities);

/**
 * A database as a build before migration 14 leaves it, with `rows` (identity, timestamp,
 * received_at, value of `temp`) staged one per row, in order.
 */
async function stagedByOldBuild(rows: [string, number, number, number | string][]): Promise<string> {
  const { store, file } = await setup();
  await store.close();
  const db = new Database(file);
  db.exec(
    `DROP TABLE staged_batches; DELETE FROM schema_migrations WHERE version = 14; ${stagedSamplesTable}`,
  );
  const stage = db.prepare(
    `INSERT INTO staged_samples (identity, signal, resource, retention, timestamp, received_at, value)
     VALUES (?, 'temp', 'temp', 12, ?, ?, ?)`,
  );
  db.transaction(() => rows.forEach((row) => stage.run(...row)))();
  db.close();
  return file;
}

/** Samples staged and not yet moved: five fields each after a write's identity and receipt time. */
const STAGED = `SELECT coalesce(sum((json_array_length(w.value) - 2) / 5), 0) AS n
  FROM staged_batches, json_each(staged_batches.samples) w`;

describe('staged samples', () => {
  it('stages a commit of a sample per device, and the mover places them in their partition soon after', async () => {
    const { store, read } = await setup();
    await Promise.all(DEVICES.map((d, k) => writeDurably(store.ingest, write(d, [[NOV_2026 + k, k]]))));
    expect(read(STAGED)).toEqual([{ n: 4 }]);
    await pollUntil(() => read<{ n: number }>(STAGED)[0]!.n === 0);
    expect(read('SELECT identity, value FROM samples_r12_202611 ORDER BY identity')).toEqual(
      DEVICES.map((identity, value) => ({ identity, value })),
    );
    expect(
      read('SELECT identity, count, sum FROM rollups_r12_202611 WHERE width = 60 ORDER BY identity'),
    ).toEqual(DEVICES.map((identity, k) => ({ identity, count: 1, sum: k })));
    await store.close();
  });

  it('writes a commit of many samples per device straight into its partition', async () => {
    const { store, read } = await setup();
    const values = Array.from({ length: 16 }, (_, k): [number, number] => [NOV_2026 + k, k]);
    await writeDurably(store.ingest, write('a', values));
    expect(read(STAGED)).toEqual([{ n: 0 }]);
    expect(read('SELECT count(*) AS n FROM samples_r12_202611')).toEqual([{ n: 16 }]);
    await store.close();
  });

  it('shows staged samples to every read at once: raw, rollups, latest values', async () => {
    const { store } = await setup();
    await writeDurably(store.ingest, write('a', [[NOV_2026, 20]]));
    await writeDurably(store.ingest, write('a', [[NOV_2026 + 1, 22]]));
    expect((await store.series.raw(everything(['a']))).map((s) => s.value)).toEqual([20, 22]);
    await writeDurably(store.ingest, write('b', [[NOV_2026, 5]]));
    const rollups = await store.series.rollups({ ...everything(['b']), width: 3600 });
    expect(rollups).toMatchObject([{ identity: 'b', count: 1, sum: 5 }]);
    await writeDurably(store.ingest, write('c', [[NOV_2026, 7]]));
    expect(await store.series.signals('c')).toMatchObject([{ signal: 'temp', lastValue: 7 }]);
    await store.close();
  });

  it('lets a later sample at the same time replace a staged one, whichever way each was written', async () => {
    const { store } = await setup();
    await writeDurably(store.ingest, write('a', [[NOV_2026, 1]]));
    // Dense: written straight into the partition, after the staged sample it replaces.
    const dense = Array.from({ length: 16 }, (_, k): [number, number] => [NOV_2026 + k, 100 + k]);
    await writeDurably(store.ingest, write('a', dense));
    await writeDurably(store.ingest, write('a', [[NOV_2026 + 1, 7]]));
    const samples = await store.series.raw(everything(['a']));
    expect(samples.map((s) => s.value)).toEqual([100, 7, ...dense.slice(2).map(([, v]) => v)]);
    const [bucket] = await store.series.rollups({ ...everything(['a']), width: 3600 });
    expect(bucket).toMatchObject({
      count: 16,
      sum: 100 + 7 + dense.slice(2).reduce((s, [, v]) => s + v, 0),
      min: 7,
      max: 115,
    });
    await store.close();
  });

  it('keeps the later of two samples at the same time within one commit, whatever the order of devices', async () => {
    const { store } = await setup();
    const values = (base: number) =>
      Array.from({ length: 16 }, (_, k): [number, number] => [NOV_2026 + k, base + k]);
    await Promise.all([
      writeDurably(store.ingest, write('b', values(0))),
      writeDurably(store.ingest, write('a', [...values(100), [NOV_2026 + 3, 999]])),
      writeDurably(store.ingest, write('a', [[NOV_2026 + 3, 7]])),
    ]);
    const a = await store.series.raw(everything(['a']));
    expect(a).toHaveLength(16);
    expect(a.find((s) => s.timestamp === NOV_2026 + 3)?.value).toBe(7);
    const [bucket] = await store.series.rollups({ ...everything(['a']), width: 60 });
    expect(bucket).toMatchObject({
      count: 16,
      max: 115,
      sum: values(100).reduce((s, [, v]) => s + v, 0) - 103 + 7,
    });
    await store.close();
  });

  it('moves samples left staged by a crash when the database opens again', async () => {
    const { store, file } = await setup();
    await store.close();
    // What a commit leaves behind when the process dies before the mover ran.
    const db = new Database(file);
    db.prepare('INSERT INTO staged_batches (samples) VALUES (?)').run(
      JSON.stringify([['a', NOV_2026, 'temp', 'temp', 12, NOV_2026, 3]]),
    );
    db.prepare('INSERT INTO staged_batches (samples) VALUES (?)').run(
      JSON.stringify([['a', NOV_2026 + 1, 'temp', 'temp', 12, NOV_2026 + 1, 5]]),
    );
    db.close();
    const reopened = await setup(file);
    expect(reopened.read(STAGED)).toEqual([{ n: 0 }]);
    expect(reopened.read('SELECT value FROM samples_r12_202611 ORDER BY timestamp')).toEqual([
      { value: 3 },
      { value: 5 },
    ]);
    expect(await reopened.store.series.signals('a')).toMatchObject([
      { lastValue: 5, lastUpdate: NOV_2026 + 1 },
    ]);
    await reopened.store.close();
  });

  it('carries samples staged by a build of one row per sample over, in their order, and moves them', async () => {
    // Three samples staged; the last two share a time.
    const file = await stagedByOldBuild([
      ['a', NOV_2026, NOV_2026, 3],
      ['b', NOV_2026 + 1, NOV_2026 + 1, 'x'],
      ['b', NOV_2026 + 1, NOV_2026 + 2, 9],
    ]);
    const reopened = await setup(file);
    expect(reopened.read("SELECT name FROM sqlite_schema WHERE name = 'staged_samples'")).toEqual([]);
    expect(reopened.read(STAGED)).toEqual([{ n: 0 }]);
    expect(reopened.read('SELECT identity, value FROM samples_r12_202611 ORDER BY identity')).toEqual([
      { identity: 'a', value: 3 },
      { identity: 'b', value: 9 },
    ]);
    await reopened.store.close();
  });

  it('carries a long backlog of such samples over in rows of 100, keeping the later of two at one time', async () => {
    // Seq 9,999 and 10,001 fall in two rows and share a time: the later one is the value.
    const file = await stagedByOldBuild(
      Array.from({ length: 10_005 }, (_, k) => {
        const seq = k + 1;
        const timestamp = seq === 10_001 ? NOV_2026 + 9_999 : NOV_2026 + seq;
        return ['a', timestamp, timestamp, seq];
      }),
    );
    const reopened = await setup(file);
    expect(reopened.read('SELECT count(*) AS n FROM samples_r12_202611')).toEqual([{ n: 10_004 }]);
    expect(
      reopened.read('SELECT value FROM samples_r12_202611 WHERE timestamp = ?', NOV_2026 + 9_999),
    ).toEqual([{ value: 10_001 }]);
    await reopened.store.close();
  });

  it('stages what JSON cannot write (Infinity) and moves it as it came', async () => {
    const { store, read } = await setup();
    await Promise.all([
      writeDurably(store.ingest, write('a', [[NOV_2026, Infinity]])),
      writeDurably(store.ingest, write('b', [[NOV_2026, -Infinity]])),
    ]);
    expect(read(STAGED)).toEqual([{ n: 2 }]);
    expect((await store.series.raw(everything(['a', 'b']))).map((s) => s.value)).toEqual([
      Infinity,
      -Infinity,
    ]);
    await store.close();
  });

  it('stages a commit of long strings in several rows, and moves them all in order', async () => {
    const many = Array.from({ length: 100 }, (_, k) => `device-${k}`);
    const { store, read } = await openIngestStore(many);
    const long = (k: number) => `${k}`.padEnd(64 * 1024, 'x');
    await Promise.all(
      many.map((identity, k) =>
        writeDurably(store.ingest, {
          identity,
          samples: [
            { signal: 'temp', resource: 'temp', retention: 12, timestamp: NOV_2026 + k, value: long(k) },
          ],
          state: [],
          seen: { at: NOV_2026, ip: null },
        }),
      ),
    );
    expect(read<{ n: number }>('SELECT count(*) AS n FROM staged_batches')[0]!.n).toBeGreaterThan(1);
    expect(read(STAGED)).toEqual([{ n: 100 }]);
    const samples = await store.series.raw(temperatureQuery(many));
    expect(samples.map((s) => s.value).sort()).toEqual(many.map((_, k) => long(k)).sort());
    await store.close();
  });

  it('drops staged samples of an identity deleted before they moved, leaving it no signals', async () => {
    const { store, read } = await setup();
    await writeDurably(store.ingest, write('a', [[NOV_2026, 1]]));
    await writeDurably(store.ingest, write('b', [[NOV_2026, 2]]));
    await store.identities.remove(['a']);
    expect((await store.series.raw(everything())).map((s) => s.identity)).toEqual(['b']);
    expect(await store.series.signals('a')).toEqual([]);
    expect(read(STAGED)).toEqual([{ n: 0 }]);
    await store.close();
  });
});
