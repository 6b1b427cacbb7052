import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ArchiveFiles } from '../core/archive-ports.js';
import { PartitionArchiver } from '../core/partition-archiver.js';
import { createFileArchive } from '../archive/archive-files.js';
import {
  AUG_10,
  AUG_11,
  DEC_1,
  MINUTE,
  readArchive,
  sampleTables,
  seedArchive,
  values,
  type ArchiveFixture,
} from './test-archive.js';

const T0 = 1_700_000_000_000_000;
let fixture: ArchiveFixture;
afterEach(async () => {
  await fixture.api.close();
});

const august = (file: string) => sampleTables(file).filter((t) => t.endsWith('202308'));

describe('archiving', () => {
  it('writes the samples of an expiring partition to one file per day, with a checksum, before dropping it', async () => {
    fixture = await seedArchive();
    const { api } = fixture;
    api.clock.now = DEC_1;
    expect((await fixture.retention()).map((p) => [p.retention, p.month])).toEqual([[3, 202308]]);
    // Class 12 keeps August; class 3's August is gone, files and all.
    expect(august(fixture.file)).toEqual(['rollups_r12_202308', 'samples_r12_202308']);
    expect(await values(api, 'd1', 'temp')).toEqual([4]);
    expect(await values(api, 'd1', 'name')).toEqual(['d1-a', 'd1-b']);

    const dir = api.archiveDir;
    expect(readdirSync(join(dir, '2023/08')).sort()).toEqual([
      '2023-08-10.r3.ndjson.gz',
      '2023-08-10.r3.ndjson.gz.sha256',
      '2023-08-11.r3.ndjson.gz',
      '2023-08-11.r3.ndjson.gz.sha256',
    ]);
    const path = join(dir, '2023/08/2023-08-10.r3.ndjson.gz');
    const { header, rows } = readArchive(path);
    expect(header).toMatchObject({
      format: 'fleetgate-archive',
      version: 1,
      day: '2023-08-10',
      retention: 3,
      columns: ['identity', 'signal', 'resource', 'timestamp', 'received_at', 'value'],
      rows: 10,
      created_at: '2023-12-01T00:00:00.000000Z',
    });
    const us = (seconds: number) => seconds * 1_000_000;
    // Ordered by identity, signal and time; booleans stay booleans, numbers numbers.
    expect(rows).toEqual([
      ['d1', 'flag', 'flag', us(AUG_10), T0, true],
      ['d1', 'flag', 'flag', us(AUG_10 + MINUTE), T0, false],
      ['d1', 'temp', 'temp', us(AUG_10), T0, 1.5],
      ['d1', 'temp', 'temp', us(AUG_10 + MINUTE), T0, 2],
      ['d1', 'temp', 'temp', us(AUG_10 + 2 * MINUTE), T0, 2.5],
      ['d2', 'flag', 'flag', us(AUG_10), T0, true],
      ['d2', 'flag', 'flag', us(AUG_10 + MINUTE), T0, false],
      ['d2', 'temp', 'temp', us(AUG_10), T0, 101.5],
      ['d2', 'temp', 'temp', us(AUG_10 + MINUTE), T0, 102],
      ['d2', 'temp', 'temp', us(AUG_10 + 2 * MINUTE), T0, 102.5],
    ]);
    expect(readArchive(join(dir, '2023/08/2023-08-11.r3.ndjson.gz')).rows).toEqual([
      ['d1', 'temp', 'temp', us(AUG_11), T0, 3],
      ['d2', 'temp', 'temp', us(AUG_11), T0, 103],
    ]);
    // `sha256sum -c` format: the digest of the file, two spaces, its name.
    const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(readFileSync(`${path}.sha256`, 'utf8')).toBe(`${digest}  2023-08-10.r3.ndjson.gz\n`);
  });

  it('keeps the partition when a file cannot be written, and finishes the days left after a restart', async () => {
    fixture = await seedArchive();
    const { api } = fixture;
    api.clock.now = DEC_1;
    const files = createFileArchive({ dir: api.archiveDir, urlTimeoutMs: 1000 });
    // The second day fails, as a full disk would.
    const failing: ArchiveFiles = {
      ...files,
      writeDay: (day, ...rest) =>
        day === '2023-08-11' ? Promise.reject(new Error('no space left')) : files.writeDay(day, ...rest),
    };
    const crashed = new PartitionArchiver({
      source: api.store.archive,
      files: failing,
      resources: { list: () => Promise.resolve({}) },
      clock: api.clock,
    });
    const partition = (await api.store.series.partitions()).find(
      (p) => p.retention === 3 && p.month === 202308,
    )!;
    await expect(crashed.archivePartition(partition)).rejects.toThrow('no space left');
    // Set aside, not dropped: out of the queries, in a sealed table, its first day done.
    expect(august(fixture.file)).toEqual([
      'rollups_r12_202308',
      'samples_r12_202308',
      'sealed_1_samples_r3_202308',
    ]);
    const [sealed] = await api.store.archive.sealed();
    expect(sealed).toMatchObject({ retention: 3, month: 202308 });
    // Days without samples have nothing to write: they are done as well.
    expect(sealed!.daysDone).toEqual([
      '2023-08-01',
      '2023-08-02',
      '2023-08-03',
      '2023-08-04',
      '2023-08-05',
      '2023-08-06',
      '2023-08-07',
      '2023-08-08',
      '2023-08-09',
      '2023-08-10',
    ]);
    expect(existsSync(join(api.archiveDir, '2023/08/2023-08-11.r3.ndjson.gz'))).toBe(false);

    expect(await api.archiver.resume()).toBe(1);
    expect(august(fixture.file)).toEqual(['rollups_r12_202308', 'samples_r12_202308']);
    expect(await api.store.archive.sealed()).toEqual([]);
    expect(readArchive(join(api.archiveDir, '2023/08/2023-08-11.r3.ndjson.gz')).header.rows).toBe(2);
    expect(readArchive(join(api.archiveDir, '2023/08/2023-08-10.r3.ndjson.gz')).header.rows).toBe(10);
  });

  it('abandons the file being written when stopped, leaving the partition sealed for the next start', async () => {
    fixture = await seedArchive();
    const { api } = fixture;
    api.clock.now = DEC_1;
    const files = createFileArchive({ dir: api.archiveDir, urlTimeoutMs: 1000 });
    const stopping: ArchiveFiles = {
      ...files,
      writeDay: (...args) => {
        void archiver.stop();
        return files.writeDay(...args);
      },
    };
    const archiver: PartitionArchiver = new PartitionArchiver({
      source: api.store.archive,
      files: stopping,
      resources: { list: () => Promise.resolve({}) },
      clock: api.clock,
    });
    const partition = (await api.store.series.partitions()).find((p) => p.retention === 3)!;
    await expect(archiver.archivePartition(partition)).rejects.toThrow('the gateway is stopping');
    await expect(archiver.resume()).rejects.toThrow('the gateway is stopping');
    expect(readdirSync(join(api.archiveDir, '2023/08'))).toEqual([]);
    const [sealed] = await api.store.archive.sealed();
    expect(sealed).toMatchObject({ retention: 3, month: 202308 });
    expect(sealed!.daysDone).not.toContain('2023-08-10');
    expect(await api.archiver.resume()).toBe(1);
    expect(readdirSync(join(api.archiveDir, '2023/08')).length).toBe(4);
  });

  it('archives samples that arrive for the month while it is being archived, so none is dropped unarchived', async () => {
    fixture = await seedArchive();
    const { api } = fixture;
    api.clock.now = DEC_1;
    const files = createFileArchive({ dir: api.archiveDir, urlTimeoutMs: 1000 });
    let late = true;
    const archiver = new PartitionArchiver({
      source: api.store.archive,
      files: {
        ...files,
        async writeDay(...args) {
          if (late) {
            late = false;
            await api.ok('publishData', {
              identity: 'd1',
              payload: [{ timestamp: AUG_11 + 30, values: { temp: 9 } }],
            });
          }
          return files.writeDay(...args);
        },
      },
      resources: { list: () => Promise.resolve({}) },
      clock: api.clock,
    });
    const partition = (await api.store.series.partitions()).find(
      (p) => p.retention === 3 && p.month === 202308,
    )!;
    await archiver.archivePartition(partition);
    expect(await api.store.series.dropPartition(partition)).toBe(false);
    expect(august(fixture.file)).toEqual(['rollups_r12_202308', 'samples_r12_202308']);
    expect(readArchive(join(api.archiveDir, '2023/08/2023-08-11.r3.ndjson.gz')).rows).toEqual([
      ['d1', 'temp', 'temp', AUG_11 * 1e6, T0, 3],
      ['d1', 'temp', 'temp', (AUG_11 + 30) * 1e6, DEC_1, 9],
      ['d2', 'temp', 'temp', AUG_11 * 1e6, T0, 103],
    ]);
  });

  it('archives a day of live data on demand, merged into its files, the same however often it runs', async () => {
    fixture = await seedArchive();
    const { api } = fixture;
    const written = await api.archiver.archiveDay('2023-08-10');
    expect(written.map((f) => [f.name, f.rows])).toEqual([
      ['2023/08/2023-08-10.r3.ndjson.gz', 10],
      ['2023/08/2023-08-10.r12.ndjson.gz', 2],
    ]);
    expect(await values(api, 'd1', 'temp')).toEqual([1.5, 2, 2.5, 3, 4]);
    // A sample changed and one added since: the file takes them, once each.
    await api.ok('publishData', {
      identity: 'd1',
      payload: [
        { timestamp: AUG_10 + MINUTE, values: { temp: 7 } },
        { timestamp: AUG_10 + 3 * MINUTE, values: { temp: 8 } },
      ],
    });
    await api.archiver.archiveDay('2023-08-10');
    const again = await api.archiver.archiveDay('2023-08-10');
    expect(again.map((f) => f.rows)).toEqual([11, 2]);
    const temps = readArchive(join(api.archiveDir, '2023/08/2023-08-10.r3.ndjson.gz'))
      .rows.filter((r) => r[0] === 'd1' && r[1] === 'temp')
      .map((r) => r[5]);
    expect(temps).toEqual([1.5, 7, 2.5, 8]);
    expect(await api.archiver.archiveDay('2023-08-12')).toEqual([]);
  });
});
