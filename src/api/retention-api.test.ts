import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionJob } from '../core/retention.js';
import type { SamplePartition } from '../core/time-series-ports.js';
import { startTestApi, type TestApi } from './test-api.js';

/* The test clock starts at 2023-11-14T22:13:20Z. */
const AUG_10 = Date.UTC(2023, 7, 10) / 1000;
const NOV_10 = Date.UTC(2023, 10, 10) / 1000;
const DEC_1 = Date.UTC(2023, 11, 1) * 1000;

let api: TestApi;
let file: string;
afterEach(async () => {
  await api.close();
});

function tables(): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_r%' ESCAPE '\\' ORDER BY name",
      )
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

/** temp keeps 3 months, name 12, raw none; temp and name have samples in August 2023, all three in November. */
async function seed() {
  file = join(mkdtempSync(join(tmpdir(), 'fleetgate-retention-')), 'db');
  api = await startTestApi({ databaseFile: file });
  await api.ok('addResource', { alias: 'temp', format: 'number', retention: '3' });
  await api.ok('addResource', { alias: 'name', format: 'string', retention: '12' });
  await api.ok('addResource', { alias: 'raw', format: 'number', retention: '0' });
  await api.ok('addIdentity', { identity: 'd1' });
  await api.ok('publishData', {
    identity: 'd1',
    payload: [
      { timestamp: AUG_10, values: { temp: 1, name: 'a' } },
      { timestamp: NOV_10, values: { temp: 2, name: 'b', raw: 8 } },
    ],
  });
}

const window = { start_time: AUG_10 - 86_400, end_time: NOV_10 + 86_400, epoch: 's' as const };
const values = async (signal: string) =>
  (await api.ok('querySignal', { identity: 'd1', signal, ...window, order: 'asc' })).data.map((item) =>
    'value' in item ? item.value : undefined,
  );
const hours = async (signal: string) =>
  (await api.ok('aggrquerySignal', { identity: 'd1', signal, ...window, fields: ['count'] })).data.length;

describe('retention', () => {
  it('drops a whole partition once its month is older than the retention, leaving other classes and months', async () => {
    await seed();
    const archived: SamplePartition[] = [];
    const job = new RetentionJob({
      store: api.store.series,
      clock: api.clock,
      archive: { archivePartition: (p) => Promise.resolve(void archived.push(p)) },
    });
    expect(await job.run()).toEqual([]);
    expect(tables()).toEqual([
      'rollups_r0_202311',
      'rollups_r12_202308',
      'rollups_r12_202311',
      'rollups_r3_202308',
      'rollups_r3_202311',
      'samples_r0_202311',
      'samples_r12_202308',
      'samples_r12_202311',
      'samples_r3_202308',
      'samples_r3_202311',
    ]);

    // December 1st: August is more than 3 months back, and November is over.
    api.clock.now = DEC_1;
    const dropped = await job.run();
    expect(dropped.map((p) => [p.retention, p.month])).toEqual([
      [3, 202308],
      [0, 202311],
    ]);
    expect(archived).toEqual(dropped);
    expect(tables()).toEqual([
      'rollups_r12_202308',
      'rollups_r12_202311',
      'rollups_r3_202311',
      'samples_r12_202308',
      'samples_r12_202311',
      'samples_r3_202311',
    ]);
    expect(await values('temp')).toEqual([2]);
    expect(await values('name')).toEqual(['a', 'b']);
    expect(await values('raw')).toEqual([]);
    expect(await hours('temp')).toBe(1);
    expect(await hours('name')).toBe(2);
    expect(await hours('raw')).toBe(0);
    // Signals are kept, with their last values.
    expect((await api.ok('latestSignalsSearch', {})).total).toBe(3);
    // A late sample of a dropped month lands in a new partition, which the next pass drops.
    await api.ok('publishData', {
      identity: 'd1',
      payload: [{ timestamp: AUG_10 + 60, values: { temp: 5 } }],
    });
    expect(await values('temp')).toEqual([5, 2]);
    expect((await job.run()).map((p) => [p.retention, p.month])).toEqual([[3, 202308]]);
    expect(await values('temp')).toEqual([2]);
  });

  it('drops a partition only once the archive has taken it, and keeps it when the archive fails', async () => {
    await seed();
    api.clock.now = DEC_1;
    const failures: unknown[] = [];
    let started!: () => void;
    const archiving = new Promise<void>((resolve) => (started = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let fail = true;
    const job = new RetentionJob({
      store: api.store.series,
      clock: api.clock,
      archive: {
        archivePartition: async (p) => {
          if (p.retention === 0 && fail) throw new Error('archive unavailable');
          started();
          await released;
        },
      },
      onError: (error) => failures.push(error),
    });
    const pass = job.run();
    await archiving;
    // The archive holds August of class 3: its data is all still there.
    expect(tables()).toContain('samples_r3_202308');
    expect(await values('temp')).toEqual([1, 2]);
    release();
    expect((await pass).map((p) => [p.retention, p.month])).toEqual([[3, 202308]]);
    expect(failures).toEqual([new Error('archive unavailable')]);
    expect(tables()).toContain('samples_r0_202311');
    expect(await values('raw')).toEqual([8]);
    fail = false;
    expect((await job.run()).map((p) => [p.retention, p.month])).toEqual([[0, 202311]]);
    expect(await values('raw')).toEqual([]);
  });
});
