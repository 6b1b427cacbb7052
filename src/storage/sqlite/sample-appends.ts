import type Database from 'better-sqlite3';
import { runChunked } from './multi-row.js';
import { partitionOf, type createPartitioner, type Partition } from './sample-partitions.js';

const COLUMNS = 5;

/** The `part` of a partition's rows in `appended_samples`. */
const partOf = (p: Pick<Partition, 'retention' | 'month'>) => p.retention * 1_000_000 + p.month;

function partitionOfPart(part: number): Partition {
  const retention = Math.floor(part / 1_000_000);
  const month = part % 1_000_000;
  return partitionOf(retention, Date.UTC(Math.floor(month / 100), (month % 100) - 1, 2) * 1000);
}

/**
 * The `appended_samples` table (migration 011): the samples of series that only grow, appended
 * by the ingest transaction that also wrote their rollups and signals (series-writer.ts decides
 * which), then inserted into their partitions by `moveInto`, in key order, entirely in SQLite.
 * Nothing else is written for them when they move: a series only grows, so no appended sample
 * can replace a stored one.
 */
export function createSampleAppends(
  db: Database.Database,
  partitions: Pick<ReturnType<typeof createPartitioner>, 'ensure'>,
) {
  const statements = new Map<string, Database.Statement>();
  const prepared = (key: string, sql: () => string) => {
    let statement = statements.get(key);
    if (!statement) statements.set(key, (statement = db.prepare(sql())));
    return statement;
  };
  const append = (part: number) => (rows: number) =>
    prepared(
      `append:${part}:${rows}`,
      () => `INSERT INTO appended_samples (identity, resource, timestamp, received_at, value, part)
        VALUES ${Array.from({ length: rows }, () => `(?, ?, ?, ?, ?, ${part})`).join(', ')}`,
    );
  // The upsert only matters if a series was appended to out of order all the same: the later
  // sample then wins, as everywhere else.
  const move = (p: Partition) =>
    prepared(
      `move:${p.table}`,
      () => `INSERT INTO ${p.table} (identity, resource, timestamp, received_at, value)
        SELECT identity, resource, timestamp, received_at, value FROM appended_samples
        WHERE part = ? AND seq <= ? ORDER BY identity, resource, timestamp
        ON CONFLICT DO UPDATE SET received_at = excluded.received_at, value = excluded.value`,
    );
  const oldest = db.prepare('SELECT min(seq) FROM appended_samples').pluck();
  const remove = db.prepare<[number]>('DELETE FROM appended_samples WHERE seq <= ?');
  const count = db.prepare('SELECT count(*) FROM appended_samples').pluck();
  const parts = db.prepare('SELECT DISTINCT part FROM appended_samples').pluck();

  /** Partitions with appended rows (committed, or in the open transaction). */
  const waiting = new Map<number, Partition>();
  let pending = 0;
  const load = () => {
    waiting.clear();
    for (const part of parts.all() as number[]) waiting.set(part, partitionOfPart(part));
    pending = count.get() as number;
  };
  load();

  return {
    /** Rows committed and not yet moved (may count a few of a rolled-back commit: harmless). */
    get pending(): number {
      return pending;
    },
    /** Appends `rows` (identity, signal, timestamp, received_at, value each) of partition `p`. */
    write(p: Partition, rows: unknown[]): void {
      if (rows.length === 0) return;
      partitions.ensure(p);
      const part = partOf(p);
      waiting.set(part, p);
      runChunked(append(part), rows, COLUMNS);
      pending += rows.length / COLUMNS;
    },
    /**
     * Inserts up to `limit` of the oldest appended samples into their partitions and deletes them;
     * must run inside a transaction. Returns how many moved.
     */
    moveInto(limit: number): number {
      const first = oldest.get() as number | null;
      if (first === null) {
        pending = 0;
        waiting.clear();
        return 0;
      }
      // seq grows by one per row, and rows only leave from the oldest: this is `limit` rows.
      const last = first + limit - 1;
      for (const [part, partition] of waiting) {
        partitions.ensure(partition);
        move(partition).run(part, last);
      }
      const moved = remove.run(last).changes;
      if (moved < limit) load();
      else pending = Math.max(0, pending - moved);
      return moved;
    },
    /** The transaction rolled back: counts again what is appended, and where. */
    rolledBack: load,
    /** Partitions were dropped: cached statements name their tables, and none may be recreated. */
    reset(): void {
      statements.clear();
      load();
    },
  };
}

export type SampleAppends = ReturnType<typeof createSampleAppends>;
