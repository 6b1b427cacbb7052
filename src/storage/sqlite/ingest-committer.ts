import type Database from 'better-sqlite3';
import type { DeviceWrite, WriteResult } from '../../core/device-ports.js';
import { writeTransaction } from './open-database.js';
import { createPartitioner } from './sample-partitions.js';
import { createSampleStaging } from './sample-staging.js';
import { createSeriesWriter } from './series-writer.js';
import { createStateWriter } from './state-writer.js';

/** A commit averaging fewer samples than this per device stages them (see below). */
const DENSE_SAMPLES_PER_DEVICE = 8;
/**
 * How long staged samples wait for the mover, and how many it moves per transaction (whole
 * commits, until at least this many). The longer the wait, the more samples per device a move
 * brings, so the fewer partition, rollup and `signals` pages it writes per sample: in the HTTP
 * bench 1 s made 0.58–0.60 of bare Fastify where 500 ms made 0.54–0.55 (2 s: 0.57–0.64). Devices
 * wait for none of it; what it costs is the length of a move (about 60 ms at 40,000 samples),
 * which a commit arriving meanwhile, or a read that moves staged samples first, waits for.
 */
const MOVE_AFTER_MS = 1000;
const MOVE_BATCH = 40_000;

/** What a commit needs of a device write: its contact is kept by the caller (presence-buffer.ts). */
export type CommitWrite = Omit<DeviceWrite, 'seen'> & { seen: { at: number } };

/** The device-data transactions of one connection, whichever thread runs them (ingest-thread.ts). */
export interface IngestCommitter {
  /** One transaction for all of `writes`: per write, what it did. Throws if rolled back. */
  commit(writes: CommitWrite[]): WriteResult[];
  /** Moves every staged sample into its partition: reads of samples, rollups and signals call it first. */
  settle(): void;
  /** Partitions were dropped or renamed: statements and partitions known to the writer are stale. */
  partitionsDropped(): void;
  /** Moves what is staged and stops the mover's timer (before closing the connection). */
  close(): void;
}

/**
 * Writes device data for the ingest store's group commit: every write of a batch (from any number
 * of connections) in one transaction.
 *
 * What a commit costs is mostly the pages it writes to the WAL. A commit of many samples per
 * device (MQTT devices with messages in flight) writes them straight into their partitions: each
 * device's samples, rollups and `signals` row share pages. A commit of a sample or two from each of
 * many devices (HTTP writes) would touch four pages per device, so it appends its samples to
 * `staged_batches` instead (one row per commit), and a mover places them every `MOVE_AFTER_MS` in
 * one transaction, or sooner when a read needs them (`settle`). Staged samples are committed like any other, so a
 * crash loses none: the next start moves them.
 *
 * Transactions begin IMMEDIATE: with the ingest thread, another connection writes to the same file,
 * and a transaction that read first could not then write (SQLITE_BUSY_SNAPSHOT).
 */
export function createIngestCommitter(db: Database.Database): IngestCommitter {
  const series = createSeriesWriter(db, createPartitioner(db));
  const staging = createSampleStaging(db);
  const idOf = db.prepare('SELECT id FROM identities WHERE identity = ?').pluck();
  const stateWriter = createStateWriter(db);
  let moveTimer: NodeJS.Timeout | undefined;

  const transaction = writeTransaction(db, (writes: CommitWrite[]) => {
    const ids = new Map<string, number | undefined>();
    stateWriter.begin();
    let samples = 0;
    for (const write of writes) {
      samples += write.samples.length;
      if (!ids.has(write.identity)) ids.set(write.identity, idOf.get(write.identity) as number | undefined);
    }
    const direct = samples >= DENSE_SAMPLES_PER_DEVICE * ids.size;
    // Staged samples go first, so that a later sample with the same time still replaces them.
    if (direct) while (staging.pending > 0) staging.moveInto(series, MOVE_BATCH);
    const sink = direct ? series : staging;
    const outcomes: WriteResult[] = writes.map((write, k) => {
      const id = ids.get(write.identity);
      if (id === undefined) return false;
      const receivedAt = write.seen.at;
      if (write.signals)
        for (const signal of write.signals) series.declare(write.identity, signal, receivedAt);
      for (const sample of write.samples) sink.add(write.identity, sample, receivedAt);
      stateWriter.add(k, id, write.state);
      return true;
    });
    series.write();
    staging.write();
    stateWriter.write(writes, (k) => ids.get(writes[k]!.identity), outcomes);
    return outcomes;
  });

  /** The transaction was rolled back: partitions it created are gone too. */
  function rolledBack(): void {
    series.reset();
    staging.rolledBack();
  }

  /**
   * Runs a transaction, and once more with nothing cached if it was rolled back: another
   * connection may have dropped or sealed a partition this writer knew. A second failure is the
   * transaction's own (staged samples then stay staged).
   */
  function withRetry<T>(run: () => T): T {
    try {
      return run();
    } catch {
      rolledBack();
      try {
        return run();
      } catch (error) {
        rolledBack();
        throw error;
      }
    }
  }

  function commit(writes: CommitWrite[]): WriteResult[] {
    const outcomes = withRetry(() => transaction(writes));
    if (staging.pending > 0) scheduleMove(MOVE_AFTER_MS);
    return outcomes;
  }

  const moveBatch = writeTransaction(db, () => {
    staging.moveInto(series, MOVE_BATCH);
    series.write();
  });
  const moveOnce = () => withRetry(moveBatch);

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
    commit,
    settle,
    partitionsDropped: () => series.reset(),
    close() {
      clearTimeout(moveTimer);
      moveTimer = undefined;
      settle();
    },
  };
}
