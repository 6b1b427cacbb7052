import type Database from 'better-sqlite3';

export interface Partition {
  month: number;
  table: string;
  startUs: number;
  endUs: number;
}

/** The UTC month holding a µs timestamp, with its bounds. */
export function partitionOf(timestampUs: number): Partition {
  const date = new Date(Math.floor(timestampUs / 1000));
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const id = year * 100 + month + 1;
  return {
    month: id,
    table: `samples_${id}`,
    startUs: Date.UTC(year, month, 1) * 1000,
    endUs: Date.UTC(year, month + 1, 1) * 1000,
  };
}

/**
 * Creates month partitions on first use. Partitions are keyed by device and resource first, so the
 * samples of one signal are contiguous for range queries.
 */
export function createPartitioner(db: Database.Database) {
  const known = new Set(
    db
      .prepare<[], { month: number }>('SELECT month FROM sample_partitions')
      .all()
      .map((r) => r.month),
  );
  const register = db.prepare(
    'INSERT OR IGNORE INTO sample_partitions (month, table_name, start_us, end_us) VALUES (?, ?, ?, ?)',
  );
  return {
    /** Must run inside the writing transaction, so a partition exists exactly when rows do. */
    ensure(partition: Partition): void {
      if (known.has(partition.month)) return;
      db.exec(`CREATE TABLE IF NOT EXISTS ${partition.table} (
        identity    TEXT    NOT NULL,
        resource    TEXT    NOT NULL,
        timestamp   INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        value,
        PRIMARY KEY (identity, resource, timestamp)
      ) WITHOUT ROWID`);
      register.run(partition.month, partition.table, partition.startUs, partition.endUs);
      known.add(partition.month);
    },
    /** Forget what a rolled-back transaction created. */
    reset(): void {
      known.clear();
      for (const r of db.prepare<[], { month: number }>('SELECT month FROM sample_partitions').all())
        known.add(r.month);
    },
  };
}
