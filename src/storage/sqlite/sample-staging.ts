import type Database from 'better-sqlite3';
import type { Sample } from '../../core/device-ports.js';
import { placeholders, runChunked } from './multi-row.js';
import { storable, type createSeriesWriter } from './series-writer.js';

const COLUMNS = 7;

interface StagedRow {
  seq: number;
  identity: string;
  signal: string;
  resource: string;
  retention: number;
  timestamp: number;
  received_at: number;
  value: string | number;
  /** Its identity was deleted since: the sample goes with it, like the identity's signals. */
  gone: 0 | 1;
}

/**
 * The `staged_samples` table (migration 010): samples appended in commit order by the ingest
 * transaction, then moved into their partitions (with their rollups and signals) by `moveInto`,
 * inside a transaction of the caller's.
 */
export function createSampleStaging(db: Database.Database) {
  const statements = new Map<number, Database.Statement>();
  const insert = (rows: number) => {
    let statement = statements.get(rows);
    if (!statement)
      statements.set(
        rows,
        (statement = db.prepare(
          `INSERT INTO staged_samples (identity, signal, resource, retention, timestamp, received_at, value)
           VALUES ${placeholders(rows, COLUMNS)}`,
        )),
      );
    return statement;
  };
  const oldest = db.prepare<[number], StagedRow>(
    `SELECT s.*, i.id IS NULL AS gone FROM staged_samples s LEFT JOIN identities i ON i.identity = s.identity
     ORDER BY s.seq LIMIT ?`,
  );
  const remove = db.prepare<[number]>('DELETE FROM staged_samples WHERE seq <= ?');
  const params: unknown[] = [];
  const count = db.prepare('SELECT count(*) FROM staged_samples').pluck();
  /** Rows committed and not yet moved (may count a few of a rolled-back commit: harmless). */
  let pending = count.get() as number;

  return {
    get pending(): number {
      return pending;
    },
    add(identity: string, sample: Sample, receivedAt: number): void {
      params.push(
        identity,
        sample.signal,
        sample.resource,
        sample.retention,
        sample.timestamp,
        receivedAt,
        storable(sample.value),
      );
    },
    /** Appends what was added; must run inside the ingest transaction. */
    write(): void {
      if (params.length === 0) return;
      runChunked(insert, params, COLUMNS);
      pending += params.length / COLUMNS;
      params.length = 0;
    },
    /** The transaction rolled back: forgets what was added, and counts what is staged again. */
    rolledBack(): void {
      params.length = 0;
      pending = count.get() as number;
    },
    /**
     * Hands up to `limit` of the oldest staged samples to `series` in commit order and deletes them;
     * must run inside a transaction that then calls `series.write()`. Returns how many moved.
     */
    moveInto(series: Pick<ReturnType<typeof createSeriesWriter>, 'add'>, limit: number): number {
      const rows = oldest.all(limit);
      for (const row of rows) {
        if (row.gone) continue;
        series.add(
          row.identity,
          {
            signal: row.signal,
            resource: row.resource,
            retention: row.retention,
            timestamp: row.timestamp,
            value: row.value,
          },
          row.received_at,
        );
      }
      if (rows.length > 0) remove.run(rows[rows.length - 1]!.seq);
      pending = rows.length < limit ? 0 : Math.max(0, pending - rows.length);
      return rows.length;
    },
  };
}
