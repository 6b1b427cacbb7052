import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { RetentionJob } from '../core/retention.js';
import { startTestApi, type TestApi } from './test-api.js';

/*
 * Shared by the archive and restore API tests (excluded from the build like test-api.ts).
 * The test clock starts at 2023-11-14T22:13:20Z.
 */

export const AUG_10 = Date.UTC(2023, 7, 10, 12) / 1000;
export const AUG_11 = Date.UTC(2023, 7, 11, 12) / 1000;
export const NOV_10 = Date.UTC(2023, 10, 10) / 1000;
export const DEC_1 = Date.UTC(2023, 11, 1) * 1000;
export const MINUTE = 60;

export interface ArchiveFixture {
  api: TestApi;
  file: string;
  /** Runs one retention pass with the archive; the partitions it dropped. */
  retention(): Promise<{ retention: number; month: number }[]>;
}

/**
 * d1 and d2 with temp (number, 3 months), flag (boolean, 3 months) and name (string, 12 months):
 * samples on August 10 and 11 and November 10, 2023.
 */
export async function seedArchive(options: Parameters<typeof startTestApi>[0] = {}): Promise<ArchiveFixture> {
  const file = join(mkdtempSync(join(tmpdir(), 'fleetgate-archive-api-')), 'db');
  const api = await startTestApi({ databaseFile: file, ...options });
  await api.ok('addResource', { alias: 'temp', format: 'number', retention: '3' });
  await api.ok('addResource', { alias: 'flag', format: 'boolean', retention: '3' });
  await api.ok('addResource', { alias: 'name', format: 'string', retention: '12' });
  for (const identity of ['d1', 'd2']) {
    await api.ok('addIdentity', { identity });
    const base = identity === 'd1' ? 0 : 100;
    await api.ok('publishData', {
      identity,
      payload: [
        { timestamp: AUG_10, values: { temp: base + 1.5, flag: true, name: `${identity}-a` } },
        { timestamp: AUG_10 + MINUTE, values: { temp: base + 2, flag: false } },
        { timestamp: AUG_10 + 2 * MINUTE, values: { temp: base + 2.5 } },
        { timestamp: AUG_11, values: { temp: base + 3 } },
        { timestamp: NOV_10, values: { temp: base + 4, name: `${identity}-b` } },
      ],
    });
  }
  const job = new RetentionJob({ store: api.store.series, clock: api.clock, archive: api.archiver });
  return { api, file, retention: () => job.run() };
}

/** The header and rows of an archive file. */
export function readArchive(path: string): { header: Record<string, unknown>; rows: unknown[][] } {
  const [header, ...rows] = gunzipSync(readFileSync(path)).toString().trimEnd().split('\n');
  return {
    header: JSON.parse(header!) as Record<string, unknown>,
    rows: rows.map((row) => JSON.parse(row) as unknown[]),
  };
}

/** Tables of samples, rollups and sealed partitions in the database file. */
export function sampleTables(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB '*_20[0-9][0-9][0-9][0-9]' ORDER BY name",
      )
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

/** A signal's values in August–November 2023, oldest first. */
export async function values(api: TestApi, identity: string, signal: string): Promise<unknown[]> {
  const reply = await api.ok('querySignal', {
    identity,
    signal,
    start_time: AUG_10 - 86_400,
    end_time: NOV_10 + 86_400,
    epoch: 's',
    order: 'asc',
  });
  return reply.data.map((item) => ('value' in item ? item.value : undefined));
}

/** A signal's hourly count, sum, min and max in August 2023, newest first. */
export async function augustHours(api: TestApi, identity: string, signal: string) {
  const reply = await api.ok('aggrquerySignal', {
    identity,
    signal,
    start_time: Date.UTC(2023, 7, 1) / 1000,
    end_time: Date.UTC(2023, 8, 1) / 1000,
    epoch: 's',
    bucket: '1h',
  });
  return reply.data.map((item) =>
    'count' in item ? [item.time, item.count, item.sum, item.min, item.max] : item,
  );
}
