import Database from 'better-sqlite3';
import { stagedValue } from './sample-staging.js';

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

/** A staged row's samples (sample-staging.ts): per write `[identity, received_at, (signal, resource, retention, timestamp, value)…]`. */
function stagedSamples(json: string): CommittedSample[] {
  return (JSON.parse(json) as unknown[][]).flatMap((write) => {
    const samples: CommittedSample[] = [];
    for (let k = 2; k < write.length; k += 5)
      samples.push({
        identity: write[0] as string,
        resource: write[k] as string,
        timestamp: write[k + 3] as number,
        value: stagedValue(write[k + 4] as Parameters<typeof stagedValue>[0]),
      });
    return samples;
  });
}
