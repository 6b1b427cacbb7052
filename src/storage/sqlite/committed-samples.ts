import Database from 'better-sqlite3';
import { readStagedRow } from './sample-staging.js';

export interface CommittedSample {
  identity: string;
  resource: string;
  timestamp: number;
  value: unknown;
}

/**
 * Every sample committed to a database file, in its partition or still staged (ingest-store.ts),
 * read through a connection of its own as another process would: what tests use to show that an
 * acknowledged value is durable. Ordered by time, then signal.
 */
export function committedSamples(file: string): CommittedSample[] {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare('SELECT table_name FROM sample_partitions ORDER BY month').pluck().all();
    const stored = (tables as string[]).flatMap(
      (table) =>
        db.prepare(`SELECT identity, resource, timestamp, value FROM ${table}`).all() as CommittedSample[],
    );
    const staged = (db.prepare('SELECT samples FROM staged_batches').pluck().all() as string[]).flatMap(
      stagedSamples,
    );
    return [...stored, ...staged].sort(
      (a, b) => a.timestamp - b.timestamp || (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0),
    );
  } finally {
    db.close();
  }
}

function stagedSamples(json: string): CommittedSample[] {
  const samples: CommittedSample[] = [];
  readStagedRow(json, (identity, { signal, timestamp, value }) =>
    samples.push({ identity, resource: signal, timestamp, value }),
  );
  return samples;
}
