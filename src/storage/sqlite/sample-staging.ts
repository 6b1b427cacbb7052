import type Database from 'better-sqlite3';
import type { Sample } from '../../core/device-ports.js';
import { storable, type createSeriesWriter } from './series-writer.js';

/** Fields per staged sample, after its write's identity and receipt time. */
const SAMPLE_FIELDS = 5;

/** One write's staged samples: `[identity, received_at, signal, resource, retention, timestamp, value, …]`. */
type StagedWrite = (string | number)[];

/**
 * The `staged_batches` table (migrations 10 and 14): the samples of each sparse commit appended as
 * one row, in commit order, by the ingest transaction, then moved into their partitions (with their
 * rollups and signals) by `moveInto`, inside a transaction of the caller's.
 */
export function createSampleStaging(db: Database.Database) {
  const insert = db.prepare<[string]>('INSERT INTO staged_batches (samples) VALUES (?)');
  const oldest = db
    .prepare<[], [number, string]>('SELECT seq, samples FROM staged_batches ORDER BY seq')
    .raw();
  const remove = db.prepare<[number]>('DELETE FROM staged_batches WHERE seq <= ?');
  const exists = db.prepare<[string]>('SELECT 1 FROM identities WHERE identity = ?').pluck();
  const count = db.prepare('SELECT count(*) FROM staged_batches').pluck();
  const writes: StagedWrite[] = [];
  let current: StagedWrite | undefined;
  /** Rows committed and not yet moved (may count one of a rolled-back commit: harmless). */
  let pending = count.get() as number;

  return {
    get pending(): number {
      return pending;
    },
    add(identity: string, sample: Sample, receivedAt: number): void {
      if (current?.[0] !== identity || current[1] !== receivedAt)
        writes.push((current = [identity, receivedAt]));
      current.push(
        sample.signal,
        sample.resource,
        sample.retention,
        sample.timestamp,
        storable(sample.value),
      );
    },
    /** Appends what was added; must run inside the ingest transaction. */
    write(): void {
      if (writes.length === 0) return;
      insert.run(JSON.stringify(writes));
      pending++;
      writes.length = 0;
      current = undefined;
    },
    /** The transaction rolled back: forgets what was added, and counts what is staged again. */
    rolledBack(): void {
      writes.length = 0;
      current = undefined;
      pending = count.get() as number;
    },
    /**
     * Hands the oldest staged samples to `series` in commit order, whole commits at a time until
     * at least `limit` have moved or none is left, and deletes them; must run inside a
     * transaction that then calls `series.write()`. Samples of an identity deleted since are
     * dropped, like its signals. Returns how many samples were read.
     */
    moveInto(series: Pick<ReturnType<typeof createSeriesWriter>, 'add'>, limit: number): number {
      const present = new Map<string, boolean>();
      let read = 0;
      let rows = 0;
      let last: number | undefined;
      for (const [seq, samples] of oldest.iterate()) {
        last = seq;
        rows++;
        for (const write of JSON.parse(samples) as StagedWrite[]) {
          const identity = write[0] as string;
          let known = present.get(identity);
          if (known === undefined) present.set(identity, (known = exists.get(identity) !== undefined));
          read += (write.length - 2) / SAMPLE_FIELDS;
          if (known) addAll(series, write);
        }
        // Breaking off resets the statement before the delete below.
        if (read >= limit) break;
      }
      if (last !== undefined) remove.run(last);
      pending = read < limit ? 0 : Math.max(0, pending - rows);
      return read;
    },
  };
}

function addAll(series: Pick<ReturnType<typeof createSeriesWriter>, 'add'>, write: StagedWrite): void {
  const identity = write[0] as string;
  const receivedAt = write[1] as number;
  for (let k = 2; k < write.length; k += SAMPLE_FIELDS) {
    const sample: Sample = {
      signal: write[k] as string,
      resource: write[k + 1] as string,
      retention: write[k + 2] as number,
      timestamp: write[k + 3] as number,
      value: write[k + 4]!,
    };
    series.add(identity, sample, receivedAt);
  }
}
