import type Database from 'better-sqlite3';
import { writeTransaction } from './open-database.js';

/**
 * Group commit: writes that arrive in the same turn of the event loop share one transaction.
 *
 * Each write still runs in its own savepoint, so one that fails (a duplicate identity, say) is
 * rolled back alone and rejects alone; the others commit together, and every promise settles only
 * after the commit, so nothing is acknowledged before it is in the WAL. A lone write waits for one
 * `setImmediate` and then commits by itself. With several requests in flight this saves most of
 * the per-transaction cost: each commit appends every page it touched to the WAL (an identity
 * insert touches six: the row and five index pages), and consecutive inserts touch the same pages.
 */
export interface GroupCommit {
  /** Queues a write for the next commit; settles once that commit is done. */
  run<T>(write: () => T): Promise<T>;
  /**
   * A read that must see the writes queued before it: it joins the next commit when one is
   * queued, and otherwise runs now, in a transaction of its own.
   */
  read<T>(query: () => T): Promise<T>;
  /** Commits whatever is queued, now (before closing the database). */
  flush(): void;
}

interface Job {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Upper bound on writes per transaction, so that one commit never holds the loop for long. */
const MAX_BATCH = 256;

export function createGroupCommit(db: Database.Database): GroupCommit {
  const queue: Job[] = [];
  const savepoint = writeTransaction(db, (write: () => unknown) => write());
  const commit = writeTransaction(db, (jobs: Job[]) =>
    jobs.map((job) => {
      // A lone write needs no savepoint: if it fails, the whole transaction rolls back.
      if (jobs.length === 1) return { ok: true, value: job.write() };
      try {
        return { ok: true, value: savepoint(job.write) };
      } catch (error) {
        return { ok: false, value: error };
      }
    }),
  );

  function flush(): void {
    if (queue.length === 0) return;
    const jobs = queue.splice(0, MAX_BATCH);
    if (queue.length > 0) setImmediate(flush);
    let outcomes: { ok: boolean; value: unknown }[];
    try {
      outcomes = commit(jobs);
    } catch (error) {
      // The commit failed, or the lone write did: the transaction was rolled back.
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, k) => {
      const outcome = outcomes[k]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.value);
    });
  }

  const run = <T>(write: () => T) =>
    new Promise<T>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
    });

  return {
    run,
    read<T>(query: () => T): Promise<T> {
      if (queue.length > 0) return run(query);
      try {
        return Promise.resolve(query());
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    flush() {
      while (queue.length > 0) flush();
    },
  };
}
