import type Database from 'better-sqlite3';
import type { Sample } from '../../core/device-ports.js';
import type { ResourceValue } from '../../core/schemas/common.js';
import { partitionOf, type createPartitioner, type Partition } from './sample-partitions.js';

const COLUMNS = 5;
/** Rows per INSERT statement, largest first: one call into SQLite per chunk, not per row. */
const CHUNKS = [256, 64, 16, 4, 1];

/** SQLite has no boolean: samples of boolean resources are stored as 1 and 0. */
const storable = (value: ResourceValue) => (typeof value === 'boolean' ? (value ? 1 : 0) : value);

/**
 * Collects the samples of one transaction per month partition and inserts them with multi-row
 * statements: binding a statement costs about as much as inserting a row, so inserting rows in
 * chunks roughly halves the cost of ingest.
 */
export function createSampleWriter(db: Database.Database, partitions: ReturnType<typeof createPartitioner>) {
  const statements = new Map<string, Database.Statement>();
  const pending = new Map<string, { partition: Partition; params: unknown[] }>();
  let last: Partition | undefined;

  function statement(partition: Partition, rows: number): Database.Statement {
    const key = `${partition.table}:${rows}`;
    let prepared = statements.get(key);
    if (!prepared) {
      partitions.ensure(partition);
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?)').join(', ');
      prepared =
        db.prepare(`INSERT INTO ${partition.table} (identity, resource, timestamp, received_at, value)
        VALUES ${values} ON CONFLICT DO UPDATE SET value = excluded.value, received_at = excluded.received_at`);
      statements.set(key, prepared);
    }
    return prepared;
  }

  return {
    add(identity: string, sample: Sample, receivedAt: number): void {
      const { timestamp, retention } = sample;
      if (!last || timestamp < last.startUs || timestamp >= last.endUs || last.retention !== retention)
        last = partitionOf(retention, timestamp);
      let batch = pending.get(last.table);
      if (!batch) pending.set(last.table, (batch = { partition: last, params: [] }));
      batch.params.push(identity, sample.signal, timestamp, receivedAt, storable(sample.value));
    },
    /** Inserts what was added; must run inside the transaction. */
    write(): void {
      for (const { partition, params } of pending.values()) {
        let offset = 0;
        const rows = params.length / COLUMNS;
        for (const size of CHUNKS) {
          while (rows - offset / COLUMNS >= size) {
            statement(partition, size).run(params.slice(offset, offset + size * COLUMNS));
            offset += size * COLUMNS;
          }
        }
      }
      pending.clear();
    },
    /** After a rollback: what was pending is dropped, and partitions created by it are gone. */
    reset(): void {
      pending.clear();
      statements.clear();
      last = undefined;
      partitions.reset();
    },
  };
}
