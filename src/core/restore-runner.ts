import { DAY_US } from './archive-day.js';
import { IDENTITY, SIGNAL, type ArchiveFiles, type ArchiveRow, type OpenedArchive } from './archive-ports.js';
import type { Clock } from './clock.js';
import { intervalScheduler, type Scheduler } from './device-metrics.js';
import type { RestoreJob, RestoreStore } from './restore-ports.js';
import type { RestoreRetention } from './schemas/restore.js';

/** How long a temporary restore (retention "0") keeps its data. */
export const TEMPORARY_RESTORE_DAYS = 7;
/** Samples per restore transaction: large for speed, small enough to hold the event loop briefly. */
export const RESTORE_BATCH_ROWS = 5_000;
/** Expired restored data is looked for this often (and at start). */
export const EXPIRY_INTERVAL_MS = 3_600_000;

/** The parameters of a task as stored (its `config`). */
export interface RestoreConfig {
  type: 'time' | 'url';
  identities?: string[];
  signals?: string[];
  retention: RestoreRetention;
}

/** When data restored at `now` with `retention` expires: months later, or 7 days for "0". */
export function restoredUntil(retention: RestoreRetention, now: number): number {
  if (retention === '0') return now + TEMPORARY_RESTORE_DAYS * DAY_US;
  const date = new Date(Math.floor(now / 1000));
  date.setUTCMonth(date.getUTCMonth() + Number(retention));
  return date.getTime() * 1000 + (now % 1000);
}

export interface RestoreRunnerDeps {
  store: RestoreStore;
  files: ArchiveFiles;
  clock: Clock;
  batchRows?: number;
  scheduler?: Scheduler;
  /** A background failure (not a file failing: that is recorded in its task). */
  onError?: (error: unknown) => void;
  /** A file finished (done or failed), for the log. */
  onFinished?: (job: RestoreJob, failure?: string) => void;
  onExpired?: (months: number[]) => void;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Restores the files of restore tasks in the background, one at a time, oldest task first. A file
 * is checked whole before any of it is written (core/archive-ports.ts `open`), then written in
 * large transactions; restoring a file again replaces what it restored before, so a file
 * interrupted by a crash or a stop is simply restored again after the next start.
 */
export class RestoreRunner {
  private running: Promise<void> | undefined;
  private again = false;
  private started = false;
  private stopped = false;
  /** A file was left running by the stop. */
  private interrupted = false;
  private readonly stopping = new AbortController();
  private cancelExpiry: (() => void) | undefined;

  constructor(private readonly deps: RestoreRunnerDeps) {}

  /** Puts back what a crash left running, then restores whatever waits. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const scheduler = this.deps.scheduler ?? intervalScheduler;
    this.cancelExpiry = scheduler(EXPIRY_INTERVAL_MS, () => this.expire());
    this.kick(async () => {
      // Leftovers only take room: failing to remove them must not keep restores from resuming.
      await this.deps.files.discardDownloads().catch((error: unknown) => this.deps.onError?.(error));
      await this.deps.store.requeue();
      await this.expire();
    });
  }

  /** A task was created or retried. */
  wake(): void {
    if (this.started && !this.stopped) this.kick();
  }

  private kick(first?: () => Promise<void>): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    this.running = (first ? first() : Promise.resolve())
      .then(() => this.loop())
      .catch((error: unknown) => this.deps.onError?.(error))
      .finally(() => {
        this.running = undefined;
        // Woken while the loop was finishing: the new work may have come after its last look.
        if (this.again && !this.stopped) this.kick();
      });
  }

  /** Resolves once nothing runs; an interrupted file is pending again. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelExpiry?.();
    this.stopping.abort(new Error('the gateway is stopping'));
    await this.running;
    if (this.interrupted) await this.deps.store.requeue();
  }

  /** Resolves when the runner has nothing left to do (for tests and the benchmark). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async expire(): Promise<void> {
    try {
      const months = await this.deps.store.expire(this.deps.clock.nowMicros());
      if (months.length > 0) this.deps.onExpired?.(months);
    } catch (error) {
      this.deps.onError?.(error);
    }
  }

  private async loop(): Promise<void> {
    for (let job = await this.deps.store.next(); job; job = await this.deps.store.next()) {
      await this.restore(job);
      if (this.stopped) return;
    }
  }

  private async restore(job: RestoreJob): Promise<void> {
    const { store, files, clock } = this.deps;
    const config = JSON.parse(job.config) as RestoreConfig;
    const identities = config.identities && new Set(config.identities);
    const signals = config.signals && new Set(config.signals);
    const batchRows = this.deps.batchRows ?? RESTORE_BATCH_ROWS;
    const signal = this.stopping.signal;
    let opened: OpenedArchive | undefined;
    let failure: string | undefined;
    try {
      // The gateway's own archive always has checksums; a URL's file may come without one.
      opened = await files.open(job.source, { signal, requireChecksum: config.type === 'time' });
      await store.opened(job, opened.header.rows);
      const until = restoredUntil(config.retention, clock.nowMicros());
      let batch: ArchiveRow[] = [];
      let read = 0;
      for await (const page of opened.rows()) {
        if (signal.aborted) break;
        read += page.length;
        for (const row of page)
          if ((!identities || identities.has(row[IDENTITY])) && (!signals || signals.has(row[SIGNAL])))
            batch.push(row);
        // A filter that leaves little still reports progress every so many rows read.
        if (batch.length >= batchRows || read >= batchRows * 4) {
          await store.write(job, batch, until, read);
          [batch, read] = [[], 0];
        }
      }
      if (!signal.aborted && (batch.length > 0 || read > 0)) await store.write(job, batch, until, read);
    } catch (error) {
      failure = describe(error);
    } finally {
      await opened?.close();
    }
    // Stopped: the file stays running, and is pending again once the runner has stopped.
    if (signal.aborted) {
      this.interrupted = true;
      return;
    }
    await store.finish(job, failure === undefined ? {} : { failure }, clock.nowMicros());
    this.deps.onFinished?.(job, failure);
  }
}
