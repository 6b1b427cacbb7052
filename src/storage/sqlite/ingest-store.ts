import type Database from 'better-sqlite3';
import type { DeviceWrite, IngestStore, WriteOutcome } from '../../core/device-ports.js';
import { createIngestCommitter } from './ingest-committer.js';
import { localCommits, startIngestThread, type CommitOutcome, type CommitPath } from './ingest-thread.js';
import { createPresenceBuffer, type PresenceBuffer } from './presence-buffer.js';

/** Upper bound on device writes per transaction, so that one commit never holds a thread for long. */
const MAX_BATCH = 8192;
/**
 * Batches on their way to the ingest thread at once. With one, writes that arrive while a batch
 * commits wait for its answer, and on a busy 2-core machine each hop between the threads takes
 * ~0.2 ms, twice the commit of an HTTP batch: the second batch leaves at once and commits right
 * after the first (HTTP bench 0.497 of Fastify against 0.470 over 20 alternated runs, MQTT
 * unchanged; BENCHMARKS.md).
 */
const MAX_IN_FLIGHT = 2;

export interface SqliteIngestStore extends IngestStore {
  /** Moves every staged sample into its partition: reads of samples, rollups and signals call it first. */
  settle(): void;
  /** Partitions were dropped: statements and partitions known to the writer are stale. */
  partitionsDropped(): void;
  /** Rewinds a long WAL from the connection that commits device data (checkpointer.ts). */
  rewind(): void;
  /** Answers what is in flight, commits what is queued and moves what is staged (before closing the database). */
  close(): Promise<void>;
  /**
   * Runs `write` (a transaction of the gateway thread's connection) while no ingest commit holds
   * the write lock: at once, or as soon as the commits in flight are answered, before the next
   * batch goes. See `createSqliteStore`.
   */
  whenIdle(write: () => void): void;
}

export interface IngestOptions {
  /** Commit on the ingest thread (ingest-thread.ts); a database on disk only. */
  thread?: boolean;
  /** Told when the ingest thread failed and commits went back to this thread. */
  onThreadFailure?: (error: Error) => void;
  /**
   * Told when a writer's callback threw (a bug of the caller) once the rest of its batch is
   * answered; without it, the error is thrown there.
   */
  onCallbackError?: (error: Error) => void;
}

/**
 * Group commit for device data: writes queued while no commit is under way (from any number of
 * connections) go into one transaction (ingest-committer.ts), and each caller is answered after
 * that commit. The cost of durability is then one commit per batch, not per message. With the
 * ingest thread, the next batch gathers here while one commits there.
 */
export function createSqliteIngestStore(
  db: Database.Database,
  presence: PresenceBuffer = createPresenceBuffer(db),
  options: IngestOptions = {},
): SqliteIngestStore {
  // Samples staged before a crash or a stop are moved now, before the thread has started.
  if (options.thread) createIngestCommitter(db).close();
  let path: CommitPath = options.thread
    ? startIngestThread(
        db,
        (error) => {
          path = localCommits(db);
          options.onThreadFailure?.(error);
        },
        MAX_BATCH,
      )
    : localCommits(db);
  let queue: DeviceWrite[] = [];
  /** Per queued write, who waits for its outcome. */
  let waiting: ((outcome: WriteOutcome) => void)[] = [];
  let scheduled = false;
  /** Batches sent to be committed and not answered yet. */
  let committing = 0;
  /** Who waits for the last commit to be answered (close). */
  const idle: (() => void)[] = [];
  /** Writes of the gateway thread's connection waiting for the commits in flight to let go of the lock. */
  const idleWrites: (() => void)[] = [];

  function answer(
    writes: DeviceWrite[],
    answers: ((outcome: WriteOutcome) => void)[],
    outcome: CommitOutcome,
  ): Error | undefined {
    // A caller's callback that throws (a bug) must not leave the rest of the batch unanswered.
    let thrown: Error | undefined;
    for (let k = 0; k < writes.length; k++) {
      try {
        if (outcome instanceof Error) {
          answers[k]!(outcome);
          continue;
        }
        const write = writes[k]!;
        // Contact is written behind, once per identity, not once per message.
        if (outcome[k] && write.seen.contact !== false) presence.note(write.identity, write.seen);
        answers[k]!(outcome[k] ?? false);
      } catch (error) {
        thrown ??= error instanceof Error ? error : new Error(String(error));
      }
    }
    return thrown;
  }

  /** A caller's callback threw: told to `onCallbackError`, or thrown once the store is done with it. */
  function report(thrown: Error | undefined): void {
    if (thrown === undefined) return;
    if (!options.onCallbackError) throw thrown;
    options.onCallbackError(thrown);
  }

  function take(): [DeviceWrite[], ((outcome: WriteOutcome) => void)[]] {
    if (queue.length <= MAX_BATCH) {
      const taken: [DeviceWrite[], ((outcome: WriteOutcome) => void)[]] = [queue, waiting];
      queue = [];
      waiting = [];
      return taken;
    }
    return [queue.splice(0, MAX_BATCH), waiting.splice(0, MAX_BATCH)];
  }

  /** Sends the queue to be committed; called again when that commit is done, for what gathered meanwhile. */
  function dispatch(): void {
    scheduled = false;
    // The gateway thread's own writes go first: no new batch until those in flight are answered.
    if (committing >= MAX_IN_FLIGHT || (committing > 0 && idleWrites.length > 0)) return;
    for (const write of idleWrites.splice(0)) write();
    if (queue.length === 0) {
      if (committing === 0) for (const resolve of idle.splice(0)) resolve();
      return;
    }
    const [writes, answers] = take();
    committing++;
    path.commit(writes, (outcome) => {
      committing--;
      const thrown = answer(writes, answers, outcome);
      dispatch();
      report(thrown);
    });
  }

  return {
    write(write, done) {
      // First: a write that cannot be encoded is refused here, and never queued.
      path.queued(write);
      if (!scheduled && committing < MAX_IN_FLIGHT) {
        scheduled = true;
        setImmediate(dispatch);
      }
      queue.push(write);
      waiting.push(done);
    },
    whenIdle(write) {
      if (committing > 0) idleWrites.push(write);
      else write();
    },
    rewind: () => path.rewind(),
    settle: () => path.settle(),
    partitionsDropped: () => path.partitionsDropped(),
    async close() {
      if (committing > 0) await new Promise<void>((resolve) => idle.push(resolve));
      let thrown: Error | undefined;
      while (queue.length > 0) {
        const [writes, answers] = take();
        thrown ??= answer(writes, answers, path.commitNow(writes));
      }
      path.close();
      report(thrown);
    },
  };
}
