import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sql as registry } from './migrations/001-registry.js';
import { sql as registryIndexes } from './migrations/002-registry-indexes.js';
import { sql as samples } from './migrations/003-samples.js';
import { sql as deviceMetrics } from './migrations/004-device-metrics.js';
import { sql as webhooks } from './migrations/005-webhooks.js';
import { migrate } from './open-database.js';
import { createSqliteStore } from './sqlite-store.js';

const NOV_2026 = Date.UTC(2026, 10, 26) * 1000;
const MINUTE = 60_000_000;

/** A database as the build before time series left it: month tables without class or rollups. */
function issue3Database(file: string): void {
  const db = new Database(file);
  migrate(db, [
    { version: 1, name: 'registry', sql: registry },
    { version: 2, name: 'registry-indexes', sql: registryIndexes },
    { version: 3, name: 'samples', sql: samples },
    { version: 4, name: 'device-metrics', sql: deviceMetrics },
    { version: 5, name: 'webhooks', sql: webhooks },
  ]);
  db.exec(`CREATE TABLE samples_202611 (identity TEXT NOT NULL, resource TEXT NOT NULL,
    timestamp INTEGER NOT NULL, received_at INTEGER NOT NULL, value,
    PRIMARY KEY (identity, resource, timestamp)) WITHOUT ROWID`);
  db.prepare('INSERT INTO sample_partitions VALUES (?, ?, ?, ?)').run(
    202611,
    'samples_202611',
    Date.UTC(2026, 10, 1) * 1000,
    Date.UTC(2026, 11, 1) * 1000,
  );
  const insert = db.prepare('INSERT INTO samples_202611 VALUES (?, ?, ?, ?, ?)');
  insert.run('a', 'temp', NOV_2026, NOV_2026 + 5, 3);
  insert.run('a', 'temp', NOV_2026 + 2 * MINUTE, NOV_2026 + 2 * MINUTE + 5, 5);
  insert.run('a', 'temp', NOV_2026 + 2 * MINUTE + 1, NOV_2026 + 2 * MINUTE + 6, 7);
  insert.run('a', 'name', NOV_2026, NOV_2026 + 5, 'x');
  db.close();
}

describe('partitions written before time series', () => {
  it('become class 12 with rollups built from their samples and signals holding their newest values', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fleetgate-legacy-')), 'db');
    issue3Database(file);
    await createSqliteStore(file).close();
    // Opening again finds nothing left to upgrade.
    await createSqliteStore(file).close();
    const db = new Database(file, { readonly: true });
    try {
      expect(
        db.prepare('SELECT retention, month, table_name, rollup_table FROM sample_partitions').all(),
      ).toEqual([
        {
          retention: 12,
          month: 202611,
          table_name: 'samples_r12_202611',
          rollup_table: 'rollups_r12_202611',
        },
      ]);
      expect(db.prepare('SELECT count(*) FROM samples_r12_202611').pluck().get()).toBe(4);
      expect(
        db
          .prepare(
            'SELECT signal, width, bucket, count, sum, min, max FROM rollups_r12_202611 ORDER BY signal, width, bucket',
          )
          .all(),
      ).toEqual([
        { signal: 'name', width: 60, bucket: NOV_2026, count: 1, sum: null, min: null, max: null },
        { signal: 'name', width: 3600, bucket: NOV_2026, count: 1, sum: null, min: null, max: null },
        { signal: 'temp', width: 60, bucket: NOV_2026, count: 1, sum: 3, min: 3, max: 3 },
        { signal: 'temp', width: 60, bucket: NOV_2026 + 2 * MINUTE, count: 2, sum: 12, min: 5, max: 7 },
        { signal: 'temp', width: 3600, bucket: NOV_2026, count: 3, sum: 15, min: 3, max: 7 },
      ]);
      expect(
        db
          .prepare(
            'SELECT identity, signal, resource, last_value, last_update, last_insert FROM signals ORDER BY signal',
          )
          .all(),
      ).toEqual([
        {
          identity: 'a',
          signal: 'name',
          resource: 'name',
          last_value: 'x',
          last_update: NOV_2026,
          last_insert: NOV_2026 + 5,
        },
        {
          identity: 'a',
          signal: 'temp',
          resource: 'temp',
          last_value: 7,
          last_update: NOV_2026 + 2 * MINUTE + 1,
          last_insert: NOV_2026 + 2 * MINUTE + 6,
        },
      ]);
    } finally {
      db.close();
    }
  });
});
