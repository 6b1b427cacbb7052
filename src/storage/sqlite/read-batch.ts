import type Database from 'better-sqlite3';

/**
 * Reads that arrive in the same turn of the event loop run together in one read transaction.
 *
 * Outside a transaction every statement is a transaction of its own, and in WAL mode beginning
 * and ending one takes and releases shared locks with `fcntl`: two system calls, which cost more
 * than an indexed lookup itself on the build machine (8 µs against under 3 µs inside a
 * transaction). A fleet connecting asks for hundreds of credentials a second; in batches they
 * share the locks. A read is answered one turn later, and an error fails that read alone.
 */
export interface ReadBatch {
  run<T>(read: () => T): Promise<T>;
}

interface Job {
  read: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function createReadBatch(db: Database.Database): ReadBatch {
  let queue: Job[] = [];
  const results = db.transaction((jobs: Job[]) =>
    jobs.map((job) => {
      try {
        return { ok: true, value: job.read() };
      } catch (error) {
        return { ok: false, value: error };
      }
    }),
  );

  function runQueued(): void {
    const jobs = queue;
    queue = [];
    let outcomes: { ok: boolean; value: unknown }[];
    try {
      // Inside a transaction of someone else's (a write calling a read) it is a savepoint.
      outcomes = results(jobs);
    } catch (error) {
      outcomes = jobs.map(() => ({ ok: false, value: error }));
    }
    outcomes.forEach((outcome, k) => {
      const job = jobs[k]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.value);
    });
  }

  return {
    run<T>(read: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (queue.length === 0) setImmediate(runQueued);
        queue.push({ read, resolve: resolve as (value: unknown) => void, reject });
      });
    },
  };
}
