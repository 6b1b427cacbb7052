import type { ArchiveRow } from './archive-ports.js';

/** Storage port of restore tasks and of restored data (docs/archive.md). Times are µs. */

export type RestoreStatus = 'pending' | 'running' | 'done' | 'failed';

export interface RestoreTaskRecord {
  taskId: string;
  /** JSON of the parameters, defaults filled in. */
  config: string;
  status: RestoreStatus;
  createdAt: number;
  finishedAt: number | null;
  total: number;
  done: number;
  failed: number;
}

export interface RestoredSignal {
  identity: string;
  signal: string;
  resource: string;
}

export interface RestoreFileRecord {
  fileName: string;
  status: RestoreStatus;
  rows: number | null;
  read: number;
  samples: number;
  skipped: number;
  message: string | null;
  finishedAt: number | null;
  signals: RestoredSignal[];
}

export interface NewRestoreTask {
  taskId: string;
  config: string;
  createdAt: number;
  /** `name` is shown; `source` is read (an absolute path or a URL). */
  files: { name: string; source: string }[];
}

/** A file being restored. */
export interface RestoreJob {
  taskId: string;
  position: number;
  fileName: string;
  source: string;
  config: string;
}

export interface RestoreStore {
  /** The task with its files, in one step. */
  create(task: NewRestoreTask): Promise<void>;
  /** Newest first. */
  tasks(): Promise<RestoreTaskRecord[]>;
  task(taskId: string): Promise<RestoreTaskRecord | undefined>;
  files(taskId: string): Promise<RestoreFileRecord[]>;
  /** Failed files become pending again (their task too): how many. */
  retry(taskId: string): Promise<number>;
  /** Files left running (by a crash, or a stop) become pending again: how many. */
  requeue(): Promise<number>;
  /** The first pending file of the oldest task with one, marked running (its task too). */
  next(): Promise<RestoreJob | undefined>;
  /** The file was opened: its row count; what an earlier attempt recorded is cleared. */
  opened(job: RestoreJob, rows: number): Promise<void>;
  /**
   * Restores rows, in one transaction with the file's progress and restored signals, into the
   * restored partitions (kept at least until `expiresUs`). A sample already in a live partition is
   * left as it is; a sample of a device that does not exist is skipped. Restoring a sample twice
   * replaces it. `read` counts the rows of the file read since the last call: these, and those the
   * task's filters left out.
   */
  write(
    job: RestoreJob,
    rows: ArchiveRow[],
    expiresUs: number,
    read: number,
  ): Promise<{ samples: number; skipped: number }>;
  /** The file is over; its task too once none of its files is pending or running. */
  finish(job: RestoreJob, outcome: { failure?: string }, at: number): Promise<void>;
  /** Drops the restored months whose expiry has come; the months dropped (YYYYMM). */
  expire(now: number): Promise<number[]>;
}
