import type Database from 'better-sqlite3';
import type { Sample } from '../../core/device-ports.js';
import { storable, type createSeriesWriter } from './series-writer.js';

/** Fields per staged sample, after its write's identity and receipt time. */
const SAMPLE_FIELDS = 5;
/**
 * A row's size at most, in bytes of JSON, counted high (a string value as six bytes a character,
 * its escaped worst case): a commit of many long strings takes several rows rather than one
 * beyond what a JavaScript string or an SQLite value can hold (~512 MiB with better-sqlite3).
 */
const MAX_ROW_BYTES = 32 * 1024 * 1024;
const SAMPLE_BYTES = 64;

/** JSON has no Infinity: a non-finite number is staged as `{"n": "Infinity"}` (values are never objects). */
type StagedValue = string | number | { n: string };

/** One write's staged samples: `[identity, received_at, signal, resource, retention, timestamp, value, …]`. */
type StagedWrite = (string | number | StagedValue)[];

/** The value of a staged sample, as `add` received it. */
function stagedValue(value: StagedValue): string | number {
  return typeof value === 'object' ? Number(value.n) : value;
}

/**
 * The `staged_batches` table (migrations 10 and 14): the samples of each sparse commit appended as
 * one row (or a few, for a commit of long strings), in commit order, by the ingest transaction,
 * then moved into their partitions (with their rollups and signals) by `moveInto`, inside a
 * transaction of the caller's.
 */
export function createSampleStaging(db: Database.Database) {
  const insert = db.prepare<[string]>('INSERT INTO staged_batches (samples) VALUES (?)');
  const oldest = db
    .prepare<[], [number, string]>('SELECT seq, samples FROM staged_batches ORDER BY seq')
    .raw();
  const remove = db.prepare<[number]>('DELETE FROM staged_batches WHERE seq <= ?');
  const exists = db.prepare<[string]>('SELECT 1 FROM identities WHERE identity = ?').pluck();
  const count = db.prepare('SELECT count(*) FROM staged_batches').pluck();
  /** Rows made of this commit's samples so far, and the writes of the row under way. */
  const rows: string[] = [];
  const writes: StagedWrite[] = [];
  let current: StagedWrite | undefined;
  let rowBytes = 0;
  /** Rows (not samples) committed and not yet moved; may count one of a rolled-back commit: harmless. */
  let pending = count.get() as number;

  function endRow(): void {
    if (writes.length > 0) rows.push(JSON.stringify(writes));
    writes.length = 0;
    current = undefined;
    rowBytes = 0;
  }

  return {
    get pending(): number {
      return pending;
    },
    add(identity: string, sample: Sample, receivedAt: number): void {
      const value = storable(sample.value);
      const bytes = SAMPLE_BYTES + (typeof value === 'string' ? 6 * value.length : 0);
      if (rowBytes + bytes > MAX_ROW_BYTES) endRow();
      rowBytes += bytes;
      if (current?.[0] !== identity || current[1] !== receivedAt)
        writes.push((current = [identity, receivedAt]));
      current.push(
        sample.signal,
        sample.resource,
        sample.retention,
        sample.timestamp,
        typeof value === 'number' && !Number.isFinite(value) ? { n: String(value) } : value,
      );
    },
    /** Appends what was added; must run inside the ingest transaction. */
    write(): void {
      endRow();
      for (const row of rows) insert.run(row);
      pending += rows.length;
      rows.length = 0;
    },
    /** The transaction rolled back: forgets what was added, and counts what is staged again. */
    rolledBack(): void {
      endRow();
      rows.length = 0;
      pending = count.get() as number;
    },
    /**
     * Hands the oldest staged samples to `series` in commit order, whole rows at a time until at
     * least `limit` samples were read or none is left, and deletes those rows; must run inside a
     * transaction that then calls `series.write()`. Samples of an identity deleted since are
     * dropped, like its signals.
     */
    moveInto(series: Pick<ReturnType<typeof createSeriesWriter>, 'add'>, limit: number): void {
      const present = new Map<string, boolean>();
      let read = 0;
      let taken = 0;
      let last: number | undefined;
      for (const [seq, samples] of oldest.iterate()) {
        last = seq;
        taken++;
        readStagedRow(samples, (identity, sample, receivedAt) => {
          read++;
          let known = present.get(identity);
          if (known === undefined) present.set(identity, (known = exists.get(identity) !== undefined));
          if (known) series.add(identity, sample, receivedAt);
        });
        // Breaking off resets the statement before the delete below.
        if (read >= limit) break;
      }
      if (last !== undefined) remove.run(last);
      // Fewer than `limit` read: every row was taken.
      pending = read < limit ? 0 : Math.max(0, pending - taken);
    },
  };
}

/** Calls `visit` for each sample of a staged row, in the order they were staged. */
export function readStagedRow(
  json: string,
  visit: (identity: string, sample: Sample, receivedAt: number) => void,
): void {
  for (const write of JSON.parse(json) as StagedWrite[]) {
    const identity = write[0] as string;
    const receivedAt = write[1] as number;
    for (let k = 2; k < write.length; k += SAMPLE_FIELDS) {
      const sample: Sample = {
        signal: write[k] as string,
        resource: write[k + 1] as string,
        retention: write[k + 2] as number,
        timestamp: write[k + 3] as number,
        value: stagedValue(write[k + 4] as StagedValue),
      };
      visit(identity, sample, receivedAt);
    }
  }
}
