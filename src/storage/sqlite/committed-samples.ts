import Database from 'better-sqlite3';

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
    const arms = [
      ...(tables as string[]).map((table) => `SELECT identity, resource, timestamp, value FROM ${table}`),
      'SELECT identity, signal AS resource, timestamp, value FROM staged_samples',
    ];
    return db.prepare(`${arms.join(' UNION ALL ')} ORDER BY timestamp, resource`).all() as CommittedSample[];
  } finally {
    db.close();
  }
}
