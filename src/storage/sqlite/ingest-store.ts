import type Database from 'better-sqlite3';
import type { DeviceWrite, IngestStore } from '../../core/device-ports.js';
import type { StateWrite } from '../../core/ports.js';
import { createPresenceBuffer, type PresenceBuffer } from './presence-buffer.js';
import { createPartitioner } from './sample-partitions.js';
import { createSampleStaging } from './sample-staging.js';
import { createSeriesWriter } from './series-writer.js';

/** Upper bound on device writes per transaction, so that one commit never holds the loop for long. */
const MAX_BATCH = 8192;
/** A commit averaging fewer samples than this per device stages them (see below). */
const DENSE_SAMPLES_PER_DEVICE = 8;
/** How long staged samples wait for the mover, and how many it moves per transaction. */
const MOVE_AFTER_MS = 500;
const MOVE_BATCH = 20_000;

export interface SqliteIngestStore extends IngestStore {
  /** Commits whatever is queued and moves every staged sample, now (before closing the database). */
  flush(): void;
  /** Moves every staged sample into its partition: reads of samples, rollups and signals call it first. */
  settle(): void;
  /** Partitions were dropped: statements and partitions known to the writer are stale. */
  partitionsDropped(): void;
}

/**
 * Group commit for device data: every write queued in one turn of the event loop (from any number
 * of connections) goes into one transaction, and each caller is answered after that commit. The
 * cost of durability is then one commit per batch, not per message.
 *
 * What a commit costs is mostly the pages it writes to the WAL. A commit of many samples per
 * device (MQTT devices with messages in flight) writes them straight into their partitions: each
 * device's samples, rollups and `signals` row share pages. A commit of a sample or two from each of
 * many devices (HTTP writes) would touch four pages per device, so it appends its samples to
 * `staged_samples` instead, and a mover places them every `MOVE_AFTER_MS` in one transaction, or
 * sooner when a read needs them (`settle`). Staged samples are committed like any other, so a
 * crash loses none: the next start moves them.
 */
export function createSqliteIngestStore(
  db: Database.Database,
  presence: PresenceBuffer = createPresenceBuffer(db),
): SqliteIngestStore {
  const series = createSeriesWriter(db, createPartitioner(db));
  const staging = createSampleStaging(db);
  const idOf = db.prepare('SELECT id FROM identities WHERE identity = ?').pluck();
  // A report older than the stored state (a batch of history) is kept as a sample only.
  const upsertState =
    db.prepare(`INSERT INTO identity_state (identity_id, resource, set_value, reported_value, timestamp)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT (identity_id, resource) DO UPDATE SET
      set_value = excluded.set_value, reported_value = excluded.reported_value, timestamp = excluded.timestamp
    WHERE excluded.timestamp >= identity_state.timestamp`);

  let queue: DeviceWrite[] = [];
  /** Per queued write, its promise's resolve and reject (flat: no closure per write). */
  const waiting: ((value: never) => void)[] = [];

  let moveTimer: NodeJS.Timeout | undefined;

  const commit = db.transaction((writes: DeviceWrite[]) => {
    const ids = new Map<string, number | undefined>();
    // Per identity and resource, only the newest state of the batch is written.
    const newest = new Map<number, Map<string, StateWrite>>();
    let samples = 0;
    for (const write of writes) {
      samples += write.samples.length;
      if (!ids.has(write.identity)) ids.set(write.identity, idOf.get(write.identity) as number | undefined);
    }
    const direct = samples >= DENSE_SAMPLES_PER_DEVICE * ids.size;
    // Staged samples go first, so that a later sample with the same time still replaces them.
    if (direct) while (staging.pending > 0) staging.moveInto(series, MOVE_BATCH);
    const sink = direct ? series : staging;
    const outcomes = writes.map((write) => {
      const id = ids.get(write.identity);
      if (id === undefined) return false;
      const receivedAt = write.seen.at;
      if (write.signals)
        for (const signal of write.signals) series.declare(write.identity, signal, receivedAt);
      for (const sample of write.samples) sink.add(write.identity, sample, receivedAt);
      let states = newest.get(id);
      if (!states) newest.set(id, (states = new Map<string, StateWrite>()));
      for (const state of write.state) {
        const previous = states.get(state.resource);
        if (!previous || previous.timestamp <= state.timestamp) states.set(state.resource, state);
      }
      // Contact is written behind (presence-buffer.ts), once per identity, not once per message.
      if (write.seen.contact !== false) presence.note(write.identity, write.seen);
      return true;
    });
    series.write();
    staging.write();
    for (const [id, states] of newest) {
      for (const state of states.values()) {
        const json = JSON.stringify(state.reported);
        upsertState.run(id, state.resource, json, json, state.timestamp);
      }
    }
    return outcomes;
  });

  function commitQueued(): void {
    while (queue.length > 0) {
      const writes = queue.length > MAX_BATCH ? queue.splice(0, MAX_BATCH) : queue;
      const answers = waiting.splice(0, 2 * writes.length);
      if (writes === queue) queue = [];
      let outcomes: (boolean | Error)[];
      try {
        outcomes = commit(writes);
      } catch (error) {
        // The transaction was rolled back: partitions it created are gone too.
        series.reset();
        staging.rolledBack();
        outcomes = writes.map(() => error as Error);
      }
      for (let k = 0; k < outcomes.length; k++) {
        const outcome = outcomes[k]!;
        if (outcome instanceof Error) (answers[2 * k + 1] as (error: Error) => void)(outcome);
        else (answers[2 * k] as (written: boolean) => void)(outcome);
      }
    }
    if (staging.pending > 0) scheduleMove(MOVE_AFTER_MS);
  }

  const moveBatch = db.transaction(() => {
    staging.moveInto(series, MOVE_BATCH);
    series.write();
  });

  function moveOnce(): void {
    try {
      moveBatch();
    } catch (error) {
      // Rolled back: the samples stay staged.
      series.reset();
      staging.rolledBack();
      throw error;
    }
  }

  /** The mover: a batch per turn of the event loop, so that devices are answered in between. */
  function move(): void {
    moveTimer = undefined;
    let delay = 0;
    try {
      moveOnce();
    } catch {
      // A read will meet the error through settle(); the mover tries again later.
      delay = MOVE_AFTER_MS;
    }
    if (staging.pending > 0) scheduleMove(delay);
  }

  function scheduleMove(delay: number): void {
    moveTimer ??= setTimeout(move, delay).unref();
  }

  function settle(): void {
    while (staging.pending > 0) moveOnce();
  }

  // Samples staged before a crash or a stop.
  settle();

  return {
    write(write) {
      return new Promise<boolean>((resolve, reject) => {
        if (queue.length === 0) setImmediate(commitQueued);
        queue.push(write);
        waiting.push(resolve, reject);
      });
    },
    flush() {
      commitQueued();
      clearTimeout(moveTimer);
      moveTimer = undefined;
      settle();
    },
    settle,
    partitionsDropped: () => series.reset(),
  };
}
