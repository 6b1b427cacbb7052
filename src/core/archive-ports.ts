import type { ResourceValue } from './schemas/common.js';
import type { SamplePartition } from './time-series-ports.js';

/**
 * Ports of archiving and restoring (docs/archive.md). Days are UTC dates written YYYY-MM-DD;
 * times are µs since the epoch.
 */

/**
 * One sample as archive files hold it, a line of the file as it is parsed: an array, so that a
 * day of samples is read without an object per sample. `resource` carried the signal; `timestamp`
 * is the reported (device) time, `receivedAt` the server time of the original write; booleans are
 * booleans (the samples tables keep them as 1/0).
 */
export type ArchiveRow = [
  identity: string,
  signal: string,
  resource: string,
  timestamp: number,
  receivedAt: number,
  value: ResourceValue,
];

/** Positions in an ArchiveRow. */
export const IDENTITY = 0;
export const SIGNAL = 1;
export const RESOURCE = 2;
export const TIMESTAMP = 3;
export const RECEIVED_AT = 4;
export const VALUE = 5;

/** A partition retention set aside to be archived, and the days of it already in files. */
export interface SealedPartition extends SamplePartition {
  id: number;
  daysDone: string[];
}

/** Where the samples of a day come from: a live retention class, or a sealed partition. */
export type DaySource = { retention: number } | { sealId: number };

/** Reads the samples of a day. */
export interface DayReader {
  /** Retention classes having a live partition that overlaps the day. */
  classesOn(day: string): Promise<number[]>;
  /** How many live samples the day has (every class). */
  countDay(day: string): Promise<number>;
  /**
   * The samples of one day, in pages, ordered by identity, signal (UTF-8 byte order) and timestamp.
   * Values are as stored: booleans are 1/0.
   */
  readDay(source: DaySource, day: string): AsyncIterable<ArchiveRow[]>;
}

/** The database side of archiving. */
export interface ArchiveSource extends DayReader {
  /**
   * Sets the live partition aside (its samples leave the queries; a late sample of its month
   * starts a new partition): null when there is none.
   */
  seal(partition: Pick<SamplePartition, 'retention' | 'month'>, at: number): Promise<SealedPartition | null>;
  /** Partitions sealed and not yet dropped (a crash may leave some). */
  sealed(): Promise<SealedPartition[]>;
  dayArchived(sealId: number, day: string): Promise<void>;
  /** Drops a sealed partition whose every day is archived. */
  dropSealed(sealId: number): Promise<void>;
}

/** A daily archive file: where it is, and what it holds. */
export interface ArchiveFileRef {
  /** As shown to users: its path inside the archive directory. */
  name: string;
  /** An absolute path. */
  path: string;
  day: string;
  retention: number;
}

export interface ArchiveFileInfo extends ArchiveFileRef {
  rows: number;
  bytes: number;
  sha256: string;
}

/** The first line of an archive file. */
export interface ArchiveHeader {
  format: 'fleetgate-archive';
  version: 1;
  day: string;
  retention: number;
  columns: string[];
  rows: number;
  created_at: string;
}

/** An archive file checked whole (checksum, compression, header, row count), ready to be read. */
export interface OpenedArchive {
  header: ArchiveHeader;
  /** Its rows, in pages; a row that is not well formed rejects. */
  rows(): AsyncIterable<ArchiveRow[]>;
  /** Releases what was fetched (a downloaded copy). */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Aborts the download and the reading. */
  signal?: AbortSignal;
  /** Whether a missing `.sha256` sidecar fails the file (it always does for the gateway's own archive). */
  requireChecksum: boolean;
}

/** The file side: where daily archive files live, and how files and URLs are read. */
export interface ArchiveFiles {
  /**
   * Writes the day file of a retention class: rows already in the file are kept unless `rows`
   * has the same (identity, signal, timestamp). Resolves once the file and its checksum are on
   * disk and read back; until then any earlier file is left as it was.
   */
  writeDay(
    day: string,
    retention: number,
    rows: AsyncIterable<ArchiveRow[]>,
    onProgress?: (rows: number) => void,
  ): Promise<ArchiveFileInfo>;
  /** The files of the days from `fromDay` to `toDay` (both included), by day then retention. */
  list(fromDay: string, toDay: string): Promise<ArchiveFileRef[]>;
  /** A path of the archive or a file:, http: or https: URL. Rejects with a message for users. */
  open(source: string, options: OpenOptions): Promise<OpenedArchive>;
  /** Removes what downloads a crash interrupted left behind (nothing may be open). */
  discardDownloads(): Promise<void>;
}
