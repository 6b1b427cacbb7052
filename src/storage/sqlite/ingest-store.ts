import type Database from 'better-sqlite3';
import type { DeviceWrite, IngestStore } from '../../core/device-ports.js';
import type { StateWrite } from '../../core/ports.js';
import { createPartitioner } from './sample-partitions.js';
import { createSeriesWriter } from './series-writer.js';

/** Upper bound on device writes per transaction, so that one commit never holds the loop for long. */
const MAX_BATCH = 8192;

export interface SqliteIngestStore extends IngestStore {
  /** Commits whatever is queued, now (before closing the database). */
  flush(): void;
  /** Partitions were dropped: statements and partitions known to the writer are stale. */
  partitionsDropped(): void;
}

/**
 * Group commit for device data: every write queued in one turn of the event loop (from any number
 * of connections) goes into one transaction, and each caller is answered after that commit. The
 * cost of durability is then one commit per batch, not per message.
 */
export function createSqliteIngestStore(db: Database.Database): SqliteIngestStore {
  const series = createSeriesWriter(db, createPartitioner(db));
  const idOf = db.prepare('SELECT id FROM identities WHERE identity = ?').pluck();
  // A report older than the stored state (a batch of history) is kept as a sample only.
  const upsertState =
    db.prepare(`INSERT INTO identity_state (identity_id, resource, set_value, reported_value, timestamp)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT (identity_id, resource) DO UPDATE SET
      set_value = excluded.set_value, reported_value = excluded.reported_value, timestamp = excluded.timestamp
    WHERE excluded.timestamp >= identity_state.timestamp`);
  const seen = db.prepare(
    'UPDATE identities SET lastseen = max(coalesce(lastseen, 0), ?), lastip = coalesce(?, lastip) WHERE id = ?',
  );

  let queue: DeviceWrite[] = [];
  const waiting: ((written: boolean | Error) => void)[] = [];

  const commit = db.transaction((writes: DeviceWrite[]) => {
    const ids = new Map<string, number | undefined>();
    const lastSeen = new Map<number, DeviceWrite['seen']>();
    // Per identity and resource, only the newest state of the batch is written.
    const newest = new Map<number, Map<string, StateWrite>>();
    const outcomes = writes.map((write) => {
      let id = ids.get(write.identity);
      if (!ids.has(write.identity))
        ids.set(write.identity, (id = idOf.get(write.identity) as number | undefined));
      if (id === undefined) return false;
      const receivedAt = write.seen.at;
      if (write.signals)
        for (const signal of write.signals) series.declare(write.identity, signal, receivedAt);
      for (const sample of write.samples) series.add(write.identity, sample, receivedAt);
      let states = newest.get(id);
      if (!states) newest.set(id, (states = new Map<string, StateWrite>()));
      for (const state of write.state) {
        const previous = states.get(state.resource);
        if (!previous || previous.timestamp <= state.timestamp) states.set(state.resource, state);
      }
      if (write.seen.contact !== false) lastSeen.set(id, write.seen);
      return true;
    });
    series.write();
    for (const [id, states] of newest) {
      for (const state of states.values()) {
        const json = JSON.stringify(state.reported);
        upsertState.run(id, state.resource, json, json, state.timestamp);
      }
    }
    // Contact is recorded once per identity per batch, not once per message.
    for (const [id, s] of lastSeen) seen.run(s.at, s.ip, id);
    return outcomes;
  });

  function flush(): void {
    while (queue.length > 0) {
      const writes = queue.length > MAX_BATCH ? queue.splice(0, MAX_BATCH) : queue;
      const answers = waiting.splice(0, writes.length);
      if (writes === queue) queue = [];
      let outcomes: (boolean | Error)[];
      try {
        outcomes = commit(writes);
      } catch (error) {
        // The transaction was rolled back: partitions it created are gone too.
        series.reset();
        outcomes = writes.map(() => error as Error);
      }
      answers.forEach((answer, k) => answer(outcomes[k]!));
    }
  }

  return {
    write(write) {
      return new Promise<boolean>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push(write);
        waiting.push((outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
      });
    },
    flush,
    partitionsDropped: () => series.reset(),
  };
}
