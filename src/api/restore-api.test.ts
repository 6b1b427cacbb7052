import { afterEach, describe, expect, it } from 'vitest';
import type { Scheduler } from '../core/device-metrics.js';
import { EXPIRY_INTERVAL_MS } from '../core/restore-runner.js';
import { augustHours, DEC_1, seedArchive, values, type ArchiveFixture } from './test-archive.js';

const DAY = 86_400_000_000;
let fixture: ArchiveFixture;
afterEach(async () => {
  await fixture.api.close();
});

async function restore(
  params: { identities?: string[]; signals?: string[]; retention?: '0' | '3'; note?: string } = {},
) {
  const { api } = fixture;
  const task = await api.ok('restoreTime', { start_date: '2023-08-01', end_date: '2023-08-31', ...params });
  await api.restoreRunner.idle();
  return task;
}

describe('restoreTime', () => {
  it('brings archived days back: samples, aggregates and signals, once however often it runs', async () => {
    fixture = await seedArchive();
    const { api } = fixture;
    const hours = await augustHours(api, 'd1', 'temp');
    const flags = await values(api, 'd1', 'flag');
    api.clock.now = DEC_1;
    await fixture.retention();
    expect(await values(api, 'd1', 'temp')).toEqual([4]);
    expect(await augustHours(api, 'd1', 'temp')).toEqual([]);

    const task = await restore({ retention: '3', note: 'audit' });
    expect(task).toEqual({ task_id: expect.any(String) as unknown, total: 2 });
    expect(await values(api, 'd1', 'temp')).toEqual([1.5, 2, 2.5, 3, 4]);
    expect(await values(api, 'd1', 'flag')).toEqual(flags);
    expect(flags).toEqual([true, false]);
    expect(await augustHours(api, 'd1', 'temp')).toEqual(hours);
    expect(await api.ok('getRestoreStatus', {})).toEqual([
      {
        task_id: task.task_id,
        status: 'done',
        total: 2,
        done: 2,
        failed: 0,
        config: JSON.stringify({
          type: 'time',
          start_date: '2023-08-01',
          end_date: '2023-08-31',
          retention: '3',
          note: 'audit',
        }),
        created_at: '2023-12-01T00:00:00.000000Z',
        finished_at: '2023-12-01T00:00:00.000000Z',
      },
    ]);
    const files = await api.ok('getRestoreTaskStatus', { task_id: task.task_id });
    expect(files).toEqual([
      {
        file_name: '2023/08/2023-08-10.r3.ndjson.gz',
        status: 'done',
        finished_at: '2023-12-01T00:00:00.000000Z',
        rows: 10,
        read: 10,
        samples: 10,
        skipped: 0,
        signals: ['d1', 'd2'].flatMap((device) => [
          { device, signal: 'flag', resource: 'flag' },
          { device, signal: 'temp', resource: 'temp' },
        ]),
      },
      {
        file_name: '2023/08/2023-08-11.r3.ndjson.gz',
        status: 'done',
        finished_at: '2023-12-01T00:00:00.000000Z',
        rows: 2,
        read: 2,
        samples: 2,
        skipped: 0,
        signals: [
          { device: 'd1', signal: 'temp', resource: 'temp' },
          { device: 'd2', signal: 'temp', resource: 'temp' },
        ],
      },
    ]);

    // Again: replaced, not duplicated; and retention leaves restored data alone.
    await restore({ retention: '3' });
    await fixture.retention();
    expect(await values(api, 'd1', 'temp')).toEqual([1.5, 2, 2.5, 3, 4]);
    expect(await augustHours(api, 'd1', 'temp')).toEqual(hours);
    // The newest value of a signal is still its newest sample: old data does not replace it.
    const latest = await api.ok('latestSignalsSearch', { identities: ['d1'], signals: ['temp'] });
    expect(latest.data.map((s) => s.last_value)).toEqual(['4']);
  });

  it('restores only the devices and signals asked for', async () => {
    fixture = await seedArchive();
    const { api } = fixture;
    api.clock.now = DEC_1;
    await fixture.retention();
    const { task_id } = await restore({ identities: ['d2'], signals: ['temp'] });
    expect(
      (await api.ok('getRestoreTaskStatus', { task_id })).map((f) => [f.rows, f.read, f.samples]),
    ).toEqual([
      [10, 10, 3],
      [2, 2, 1],
    ]);
    expect(await values(api, 'd1', 'temp')).toEqual([4]);
    expect(await values(api, 'd2', 'temp')).toEqual([101.5, 102, 102.5, 103, 104]);
    expect(await values(api, 'd2', 'flag')).toEqual([]);
  });

  it('keeps restored data for its retention counted from the restore, 7 days when temporary', async () => {
    const ticks = new Map<number, () => Promise<void>>();
    const scheduler: Scheduler = (interval, task) => {
      ticks.set(interval, task);
      return () => ticks.delete(interval);
    };
    fixture = await seedArchive({ scheduler });
    const { api } = fixture;
    api.clock.now = DEC_1;
    await fixture.retention();
    await restore({ retention: '0', signals: ['temp'] });
    const expire = () => ticks.get(EXPIRY_INTERVAL_MS)!();
    api.clock.now = DEC_1 + 7 * DAY - 1;
    await expire();
    expect(await values(api, 'd1', 'temp')).toEqual([1.5, 2, 2.5, 3, 4]);
    // Restored again for 3 months: the longer retention wins.
    await restore({ retention: '3', signals: ['flag'] });
    api.clock.now = DEC_1 + 7 * DAY;
    await expire();
    expect(await values(api, 'd1', 'temp')).toEqual([1.5, 2, 2.5, 3, 4]);
    api.clock.now = Date.UTC(2024, 2, 1) * 1000 + 7 * DAY;
    await expire();
    expect(await values(api, 'd1', 'temp')).toEqual([4]);
    expect(await values(api, 'd1', 'flag')).toEqual([]);
  });

  it('leaves samples still in the live store as they are, and skips devices that no longer exist', async () => {
    fixture = await seedArchive();
    const { api } = fixture;
    const hours = await augustHours(api, 'd1', 'temp');
    // Archived on demand: the live samples stay, and the restore must not count them twice.
    await api.archiver.archiveDay('2023-08-10');
    await api.ok('removeIdentity', { identity: 'd2' });
    const { task_id } = await api.ok('restoreTime', { start_date: '2023-08-10', end_date: '2023-08-10' });
    await api.restoreRunner.idle();
    expect(await values(api, 'd1', 'temp')).toEqual([1.5, 2, 2.5, 3, 4]);
    expect(await augustHours(api, 'd1', 'temp')).toEqual(hours);
    const files = await api.ok('getRestoreTaskStatus', { task_id });
    expect(files.map((f) => [f.file_name, f.status, f.rows, f.read, f.samples, f.skipped])).toEqual([
      ['2023/08/2023-08-10.r3.ndjson.gz', 'done', 10, 10, 5, 5],
      ['2023/08/2023-08-10.r12.ndjson.gz', 'done', 2, 2, 1, 1],
    ]);
  });
});
