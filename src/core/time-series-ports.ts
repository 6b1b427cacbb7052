import type { ResourceValue } from './schemas/common.js';

/**
 * Storage ports of the time series (docs/time-series.md). Samples are written through
 * `IngestStore` (core/device-ports.ts); these read them, and drop whole partitions for retention.
 * Times are µs since the epoch; ranges are [from, to).
 */

/** One time series: a signal of an identity. */
export interface SeriesKey {
  identity: string;
  signal: string;
}

export interface SignalRecord extends SeriesKey {
  /** The resource that carries the signal: its own alias, or 'data_in' for a parser channel. */
  resource: string;
  /** JSON text, or null. */
  metadata: string | null;
  createdAt: number;
  /** The value of the newest sample by reported time (booleans as 1/0), null before any. */
  lastValue: ResourceValue | null;
  /** Reported time of that sample. */
  lastUpdate: number | null;
  /** Server time at which it was written. */
  lastInsert: number | null;
}

export interface RawSample extends SeriesKey {
  /** Reported (device) time. */
  timestamp: number;
  /** Server time of the write. */
  receivedAt: number;
  /** As stored: booleans are 1/0. */
  value: ResourceValue;
}

export interface RawQuery {
  /** Every signal of `signals` of every identity of `identities`. */
  identities: string[];
  signals: string[];
  from: number;
  to: number;
  /**
   * Reported time, or server time then reported time; ties broken by identity, then signal (all
   * in the same direction).
   */
  sortBy: 'report' | 'server';
  descending: boolean;
  limit: number;
  offset: number;
}

export type BucketWidth = 60 | 300 | 3600;

/** count/sum/min/max of one bucket; sum/min/max are null when no sample in it was numeric. */
export interface RollupRow extends SeriesKey {
  /** Start of the bucket (a multiple of its width since the epoch). */
  bucket: number;
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
}

export interface RollupQuery {
  /** Every signal of `signals` of every identity of `identities`. */
  identities: string[];
  signals: string[];
  /** Seconds. */
  width: BucketWidth;
  /**
   * Only samples in [from, to) count, exactly: buckets cut by the range are computed from the
   * samples inside it; the others come from the rollups.
   */
  from: number;
  to: number;
  /** Ordered by bucket descending, then identity and signal ascending. */
  limit: number;
  offset: number;
}

export interface LatestQuery {
  /** Absent: every identity / signal. */
  identities?: string[];
  signals?: string[];
  sortKey: 'identity' | 'signal';
  /** The sort key (then the other one) descending. */
  reverse: boolean;
  limit: number;
  offset: number;
}

/** One partition of samples: a retention class and a UTC month. */
export interface SamplePartition {
  /** Months its class keeps data. */
  retention: number;
  /** YYYYMM. */
  month: number;
  startUs: number;
  endUs: number;
}

export interface TimeSeriesStore {
  /** The signals of an identity, by signal name (every one, or only the named ones). */
  signals(identity: string, names?: string[]): Promise<SignalRecord[]>;
  /** The identities (of `identities`, or all) having the signal. */
  identitiesWithSignal(signal: string, identities?: string[]): Promise<string[]>;
  raw(query: RawQuery): Promise<RawSample[]>;
  rollups(query: RollupQuery): Promise<RollupRow[]>;
  latest(query: LatestQuery): Promise<{ rows: SignalRecord[]; total: number }>;
  partitions(): Promise<SamplePartition[]>;
  /**
   * Drops a partition: its samples and rollups, in one step (a table drop, never row deletes).
   * false when it was already gone.
   */
  dropPartition(partition: Pick<SamplePartition, 'retention' | 'month'>): Promise<boolean>;
}

/**
 * Where a partition's samples go before retention drops it. The archive issue implements it; until
 * then the default keeps nothing. The drop waits for it: a rejection leaves the partition in place.
 */
export interface SampleArchive {
  archivePartition(partition: SamplePartition): Promise<void>;
}
