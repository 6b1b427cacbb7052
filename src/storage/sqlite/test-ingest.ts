import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Sample } from '../../core/device-ports.js';
import { newIdentity } from '../contract-fixtures.js';
import { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

/** For tests on a file: a store whose ingest thread fails makes the test run fail, not fall back quietly. */
export const strictIngestThread = {
  onIngestThreadFailure(error: Error): never {
    throw error;
  },
};

/**
 * For the ingest tests: a store on a file (fresh unless given) with the numeric resource `temp`
 * (12 months) and `identities`, adding whichever is missing, so a test can reopen the same file;
 * `read` queries the file through a connection of its own, as another process would.
 */
export async function openIngestStore(
  identities: string[],
  file = join(mkdtempSync(join(tmpdir(), 'fleetgate-ingest-')), 'db'),
  options: SqliteStoreOptions = {},
) {
  const store = createSqliteStore(file, { ...strictIngestThread, ...options });
  if (!(await store.resources.get('temp')))
    await store.resources.add('temp', { format: 'number', sync: true, settable: false, retention: '12' });
  for (const identity of identities)
    if (!(await store.identities.get(identity)))
      await store.identities.insert(newIdentity(identity, { createdAt: 1 }));
  const read = <T>(sql: string, ...params: unknown[]) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };
  return { store, read, file };
}

/** Samples of `temp`, one per [timestamp µs, value]. */
export const temperatureSamples = (values: [number, number][]): Sample[] =>
  values.map(([timestamp, value]) => ({ signal: 'temp', resource: 'temp', retention: 12, timestamp, value }));

/** 2026-11-26 00:00 UTC in µs: the time the staging tests write around. */
export const NOV_2026 = Date.UTC(2026, 10, 26) * 1000;

/** A raw query for `temp` of `identities` over the hour either side of NOV_2026. */
export const temperatureQuery = (identities: string[]) => ({
  identities,
  signals: ['temp'],
  from: NOV_2026 - 3_600_000_000,
  to: NOV_2026 + 3_600_000_000,
  sortBy: 'report' as const,
  descending: false,
  limit: 1000,
  offset: 0,
});

/** Waits (up to 5 s; it moves after 1 s) for the mover to have done something `done` can see. */
export async function pollUntil(done: () => boolean): Promise<void> {
  for (let k = 0; k < 250 && !done(); k++) await new Promise((r) => setTimeout(r, 20));
}
