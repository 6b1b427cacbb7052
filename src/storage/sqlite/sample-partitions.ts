import type Database from 'better-sqlite3';
import { writeTransaction } from './open-database.js';

/** A partition of samples: one retention class (months kept) and one UTC month. */
export interface Partition {
  retention: number;
  /** YYYYMM. */
  month: number;
  /** Its samples. */
  table: string;
  /** Their rollups (count/sum/min/max per identity, signal, width and bucket). */
  rollups: string;
  startUs: number;
  endUs: number;
}

/** The partition of a retention class holding a µs timestamp, with its bounds. */
export function partitionOf(retention: number, timestampUs: number): Partition {
  const date = new Date(Math.floor(timestampUs / 1000));
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const id = year * 100 + month + 1;
  return {
    retention,
    month: id,
    table: `samples_r${retention}_${id}`,
    rollups: `rollups_r${retention}_${id}`,
    startUs: Date.UTC(year, month, 1) * 1000,
    endUs: Date.UTC(year, month + 1, 1) * 1000,
  };
}

/** Samples are keyed by device and signal first, so one signal's samples are contiguous. */
export function samplesTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
    identity    TEXT    NOT NULL,
    resource    TEXT    NOT NULL, -- the signal
    timestamp   INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    value,
    PRIMARY KEY (identity, resource, timestamp)
  ) WITHOUT ROWID`;
}

/** sum/min/max are NULL for a bucket without numeric samples. */
export function rollupsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
    identity TEXT    NOT NULL,
    signal   TEXT    NOT NULL,
    width    INTEGER NOT NULL, -- seconds
    bucket   INTEGER NOT NULL, -- first µs
    count    INTEGER NOT NULL,
    sum      REAL,
    min      REAL,
    max      REAL,
    PRIMARY KEY (identity, signal, width, bucket)
  ) WITHOUT ROWID`;
}

const keyOf = (retention: number, month: number) => retention * 1_000_000 + month;

/** Creates partitions (samples and rollups tables) on first use. */
export function createPartitioner(db: Database.Database) {
  const known = new Set<number>();
  const load = () => {
    known.clear();
    for (const r of db
      .prepare<[], { retention: number; month: number }>('SELECT retention, month FROM sample_partitions')
      .all())
      known.add(keyOf(r.retention, r.month));
  };
  load();
  const register = db.prepare(
    `INSERT OR IGNORE INTO sample_partitions (retention, month, table_name, rollup_table, start_us, end_us)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  return {
    /** Must run inside the writing transaction, so a partition exists exactly when rows do. */
    ensure(partition: Partition): void {
      const key = keyOf(partition.retention, partition.month);
      if (known.has(key)) return;
      db.exec(samplesTableSql(partition.table));
      db.exec(rollupsTableSql(partition.rollups));
      const { retention, month, table, rollups, startUs, endUs } = partition;
      register.run(retention, month, table, rollups, startUs, endUs);
      known.add(key);
    },
    /** Forget what a rolled-back transaction created, or a dropped partition. */
    reset: load,
  };
}

/** The numeric part of a stored value: numbers, and booleans stored as 1/0; NULL for text. */
export const NUMERIC = "CASE WHEN typeof(value) IN ('integer', 'real') THEN value END";

/** Rollup widths kept in the rollup tables, in seconds. */
export const ROLLUP_WIDTHS = [60, 3600] as const;

/** Recomputes every rollup of a samples table from its rows (repair of a partition). */
export function rebuildRollupsSql(samples: string, rollups: string, width: number): string {
  const us = width * 1_000_000;
  return `INSERT OR REPLACE INTO ${rollups} (identity, signal, width, bucket, count, sum, min, max)
    SELECT identity, resource, ${width}, (timestamp / ${us}) * ${us} AS b, count(*), sum(n), min(n), max(n)
    FROM (SELECT identity, resource, timestamp, ${NUMERIC} AS n FROM ${samples})
    GROUP BY identity, resource, b`;
}

/**
 * Brings partitions written before time series (migration 6 registered them as class 12) up to
 * date: their tables take the class's name, their rollups are built and their signals recorded.
 * Each partition is upgraded in one transaction; a partition already upgraded is left alone.
 */
export function upgradeLegacyPartitions(db: Database.Database): void {
  const rows = db
    .prepare<[], { retention: number; month: number; table_name: string; rollup_table: string }>(
      'SELECT retention, month, table_name, rollup_table FROM sample_partitions ORDER BY month',
    )
    .all();
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck();
  for (const row of rows) {
    const partition = partitionOf(
      row.retention,
      Date.UTC(Math.floor(row.month / 100), (row.month % 100) - 1, 2) * 1000,
    );
    if (row.table_name === partition.table && exists.get(partition.rollups)) continue;
    writeTransaction(db, () => {
      if (row.table_name !== partition.table) {
        db.exec(`ALTER TABLE ${row.table_name} RENAME TO ${partition.table}`);
        db.prepare(
          'UPDATE sample_partitions SET table_name = ?, rollup_table = ? WHERE retention = ? AND month = ?',
        ).run(partition.table, partition.rollups, row.retention, row.month);
      }
      db.exec(rollupsTableSql(partition.rollups));
      for (const width of ROLLUP_WIDTHS)
        db.exec(rebuildRollupsSql(partition.table, partition.rollups, width));
      // SQLite takes the bare columns of an aggregate query from the row holding the max().
      db.exec(`INSERT INTO signals (identity, signal, resource, metadata, created_at, last_value, last_update, last_insert)
        SELECT identity, resource, resource, NULL, received_at, value, max(timestamp), received_at
        FROM ${partition.table} GROUP BY identity, resource
        ON CONFLICT (identity, signal) DO UPDATE SET last_value = excluded.last_value,
          last_update = excluded.last_update, last_insert = excluded.last_insert
        WHERE excluded.last_update >= signals.last_update`);
    })();
  }
}
