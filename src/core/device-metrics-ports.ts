import type { DeviceMetricName } from './device-metrics.js';

/**
 * Storage port of the device metrics. Times here are in seconds since the epoch, the unit of
 * getDeviceMetrics, and every minute is the start of a UTC minute (a multiple of 60).
 */

export type AggregateFn = 'count' | 'sum' | 'min' | 'max' | 'avg';

/** What happened to one metric of one identity (or of none) during one minute. */
export interface MetricRollup {
  /** Start of the minute, seconds since the epoch. */
  minute: number;
  metric: DeviceMetricName;
  /** null when the occurrence is attributable to no identity (say, an unknown token). */
  identity: string | null;
  /** The reason of a connection_error; null for every other metric. */
  reason: string | null;
  /** Occurrences (samples, for the connected gauge). */
  count: number;
  /** Sum, smallest and largest of their values. */
  sum: number;
  min: number;
  max: number;
}

export interface DeviceMetricsQuery {
  metric: DeviceMetricName;
  /** Window length in seconds; windows start at multiples of it. */
  window: 60 | 300 | 3600;
  /**
   * Without `distinct`: count = sum of counts, sum = sum of sums, min = smallest min, max =
   * largest max, avg = sum of sums / sum of counts. With `distinct`, the rollups of each identity
   * within the window are first added up (its sum), rollups without identity are left out, and
   * count = number of identities, sum/min/max/avg = that function over the identities' sums.
   */
  fn: AggregateFn;
  distinct: boolean;
  /** One point per window and reason instead of one per window. */
  byReason: boolean;
  /** Only minutes overlapping [from, to) (seconds) take part. */
  from: number;
  to: number;
  limit: number;
  offset: number;
}

/** One point of the answer: windows without rollups are absent. */
export interface MetricPoint {
  /** Start of the window, seconds since the epoch. */
  time: number;
  value: number;
  /** The reason, when the query is byReason. */
  reason: string | null;
}

export interface DeviceMetricsStore {
  /**
   * Adds the rollups in one atomic step. A rollup whose (minute, metric, identity, reason) is
   * already stored is merged into it (counts and sums added, min and max kept), because a minute
   * is written in several flushes.
   */
  append(rollups: MetricRollup[]): Promise<void>;
  /** Points ordered by time, then reason; `limit` and `offset` apply to points. */
  query(query: DeviceMetricsQuery): Promise<MetricPoint[]>;
  /** Removes up to `limit` rollups of minutes before `before` (seconds); returns how many. */
  prune(before: number, limit: number): Promise<number>;
}
