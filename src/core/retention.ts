import type { Clock } from './clock.js';
import { intervalScheduler, type Scheduler } from './device-metrics.js';
import type { SampleArchive, SamplePartition, TimeSeriesStore } from './time-series-ports.js';

/** Until the archive issue provides one: nothing is kept, the drop goes ahead. */
export const noArchive: SampleArchive = {
  archivePartition: () => Promise.resolve(),
};

/** Retention is counted in months, so an hourly pass is ample; one also runs at start. */
export const RETENTION_INTERVAL_MS = 3_600_000;

/**
 * When a partition's data has all aged out: the whole month lies more than `retention` months
 * back (retention 0: once the month is over), in µs.
 */
export function expiresAt(partition: Pick<SamplePartition, 'retention' | 'month'>): number {
  const year = Math.floor(partition.month / 100);
  const month = (partition.month % 100) - 1;
  return Date.UTC(year, month + 1 + partition.retention, 1) * 1000;
}

export interface RetentionDeps {
  store: TimeSeriesStore;
  archive?: SampleArchive;
  clock: Clock;
  scheduler?: Scheduler;
  /** Failures of a pass (an archive refusing, a drop failing); the partition stays for the next pass. */
  onError?: (error: unknown, partition?: SamplePartition) => void;
  onDropped?: (partition: SamplePartition) => void;
}

/**
 * Enforces each resource's retention by dropping whole partitions (a retention class and a month),
 * never by deleting rows: a drop costs the same whatever the partition holds, so it cannot stall
 * ingest. Each partition is handed to the archive first, and dropped only once the archive is done.
 */
export class RetentionJob {
  private cancel: (() => void) | undefined;
  private running: Promise<SamplePartition[]> | undefined;
  private stopped = false;

  constructor(private readonly deps: RetentionDeps) {}

  start(): void {
    if (this.cancel || this.stopped) return;
    const scheduler = this.deps.scheduler ?? intervalScheduler;
    this.cancel = scheduler(RETENTION_INTERVAL_MS, async () => void (await this.run()));
    void this.run();
  }

  /** One pass (or the one already running): the partitions it dropped. */
  run(): Promise<SamplePartition[]> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  /** No pass starts afterwards; the one running finishes first. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
    await this.running;
  }

  private async pass(): Promise<SamplePartition[]> {
    const { store, archive = noArchive, clock, onError, onDropped } = this.deps;
    const dropped: SamplePartition[] = [];
    let partitions: SamplePartition[];
    try {
      partitions = await store.partitions();
    } catch (error) {
      onError?.(error);
      return dropped;
    }
    for (const partition of partitions) {
      if (this.stopped || expiresAt(partition) > clock.nowMicros()) continue;
      try {
        await archive.archivePartition(partition);
        // The archive may have taken the partition out itself (docs/archive.md): gone either way.
        if ((await store.dropPartition(partition)) || archive !== noArchive) {
          dropped.push(partition);
          onDropped?.(partition);
        }
      } catch (error) {
        onError?.(error, partition);
      }
    }
    return dropped;
  }
}
