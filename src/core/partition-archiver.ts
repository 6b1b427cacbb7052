import { daysBetween } from './archive-day.js';
import {
  RESOURCE,
  SIGNAL,
  VALUE,
  type ArchiveFileInfo,
  type ArchiveFiles,
  type ArchiveRow,
  type ArchiveSource,
  type DayReader,
  type SealedPartition,
} from './archive-ports.js';
import type { Clock } from './clock.js';
import type { ResourceDefinition } from './schemas/resource.js';
import type { SampleArchive, SamplePartition } from './time-series-ports.js';

/**
 * How many times in a row a partition is sealed again because late samples of its month arrived
 * while it was being archived, before retention gives up until its next pass.
 */
const MAX_SEALS = 3;

export interface ArchiverDeps {
  source: ArchiveSource;
  files: ArchiveFiles;
  resources: { list(): Promise<Record<string, ResourceDefinition>> };
  clock: Clock;
  /** Every file written, for the log. */
  onArchived?: (file: ArchiveFileInfo) => void;
  /** A partition set aside to be archived, for the log. */
  onSealed?: (partition: SealedPartition) => void;
}

/** The pages of an iterable, or undefined when it has none (no file is written for an empty day). */
async function nonEmpty<T>(pages: AsyncIterable<T[]>): Promise<AsyncIterable<T[]> | undefined> {
  const iterator = pages[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && first.value.length === 0) first = await iterator.next();
  if (first.done) return undefined;
  const head = first.value;
  return (async function* () {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
}

/**
 * Archives samples into daily files (docs/archive.md): as retention's archive, each expiring
 * partition, and on demand, any day of live data. Retention's partitions are sealed first (moved
 * out of the live partitions, so a late sample of the month starts a new one rather than joining
 * one being archived), then written day by day into verified files, then dropped. A crash at any
 * point leaves the sealed partition and the days done recorded, and archiving resumes from there.
 * All archiving runs one piece of work at a time.
 */
export class PartitionArchiver implements SampleArchive {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(private readonly deps: ArchiverDeps) {}

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const guarded = () => {
      this.stopping.signal.throwIfAborted();
      return work();
    };
    const run = this.queue.then(guarded, guarded);
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Abandons the file being written and refuses further work; resolves once nothing runs. A
   * partition being archived stays sealed, and is finished after the next start.
   */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('the gateway is stopping'));
    await this.queue;
  }

  /**
   * Resolves once the partition is archived and gone, and no partition of its class and month is
   * left for retention to drop: samples that arrived meanwhile were archived too.
   */
  archivePartition(partition: SamplePartition): Promise<void> {
    return this.serial(async () => {
      await this.finishSealed();
      for (let round = 0; ; round++) {
        if (round === MAX_SEALS)
          throw new Error(
            `samples of ${partition.month} (retention ${partition.retention}) keep arriving; archived what came, the rest at the next pass`,
          );
        const sealed = await this.deps.source.seal(partition, this.deps.clock.nowMicros());
        if (!sealed) return;
        this.deps.onSealed?.(sealed);
        await this.archiveSealed(sealed);
      }
    });
  }

  /** Finishes what a crash left sealed; resolves with how many partitions that was. */
  resume(): Promise<number> {
    return this.serial(() => this.finishSealed());
  }

  /** archiveLiveDay, in turn with the rest of the archiving. */
  archiveDay(day: string, onProgress?: (rows: number) => void): Promise<ArchiveFileInfo[]> {
    return this.serial(async () => {
      const written = await archiveLiveDay({ ...this.deps, signal: this.stopping.signal }, day, onProgress);
      for (const file of written) this.deps.onArchived?.(file);
      return written;
    });
  }

  private async finishSealed(): Promise<number> {
    const sealed = await this.deps.source.sealed();
    for (const partition of sealed) await this.archiveSealed(partition);
    return sealed.length;
  }

  private async archiveSealed(sealed: SealedPartition): Promise<void> {
    const { source } = this.deps;
    for (const day of daysBetween(sealed.startUs, sealed.endUs - 1)) {
      if (sealed.daysDone.includes(day)) continue;
      await this.writeDay(day, sealed.retention, source.readDay({ sealId: sealed.id }, day));
      await source.dayArchived(sealed.id, day);
    }
    await source.dropSealed(sealed.id);
  }

  private async writeDay(day: string, retention: number, pages: AsyncIterable<ArchiveRow[]>): Promise<void> {
    const file = await writeDayFile({ ...this.deps, signal: this.stopping.signal }, day, retention, pages);
    if (file) this.deps.onArchived?.(file);
  }
}

export type DayArchiveDeps = Pick<ArchiverDeps, 'files' | 'resources'> & {
  source: DayReader;
  signal?: AbortSignal;
};

/**
 * Archives the live samples of one day (every retention class that has some), merged into
 * existing files; the samples stay where they are. `onProgress` gets the rows written so far.
 */
export async function archiveLiveDay(
  deps: DayArchiveDeps,
  day: string,
  onProgress?: (rows: number) => void,
): Promise<ArchiveFileInfo[]> {
  const written: ArchiveFileInfo[] = [];
  let before = 0;
  for (const retention of await deps.source.classesOn(day)) {
    const file = await writeDayFile(
      deps,
      day,
      retention,
      deps.source.readDay({ retention }, day),
      onProgress && ((rows) => onProgress(before + rows)),
    );
    if (file) {
      written.push(file);
      before += file.rows;
    }
  }
  return written;
}

async function writeDayFile(
  deps: Pick<ArchiverDeps, 'files' | 'resources'> & { signal?: AbortSignal },
  day: string,
  retention: number,
  pages: AsyncIterable<ArchiveRow[]>,
  onProgress?: (rows: number) => void,
): Promise<ArchiveFileInfo | undefined> {
  const rows = await nonEmpty(pages);
  if (!rows) return undefined;
  const definitions = await deps.resources.list();
  const booleans = new Set(
    Object.keys(definitions).filter((alias) => definitions[alias]!.format === 'boolean'),
  );
  return deps.files.writeDay(day, retention, typed(rows, booleans, deps.signal), onProgress);
}

/** Samples of boolean resources become booleans again, so that the file says what they are. */
async function* typed(
  pages: AsyncIterable<ArchiveRow[]>,
  booleans: Set<string>,
  signal?: AbortSignal,
): AsyncGenerator<ArchiveRow[]> {
  for await (const page of pages) {
    // Stopping abandons the file being written (its temporary file goes); the day is done again.
    signal?.throwIfAborted();
    if (booleans.size > 0)
      for (const row of page)
        if (typeof row[VALUE] === 'number' && row[SIGNAL] === row[RESOURCE] && booleans.has(row[SIGNAL]))
          row[VALUE] = row[VALUE] !== 0;
    yield page;
  }
}
