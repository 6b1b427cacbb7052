import type { Clock } from './clock.js';
import type { DeviceMetricsStore, MetricRollup } from './device-metrics-ports.js';
import { queryDeviceMetrics } from './device-metrics-query.js';
import type { GetDeviceMetricsParams, GetDeviceMetricsResult } from './schemas/device-metrics.js';

export type DeviceMetricName =
  | 'connected'
  | 'connection'
  | 'disconnection'
  | 'connection_error'
  | 'deleted'
  | 'whitelisted'
  | 'provisioned'
  | 'expired'
  | 'locked'
  | 'reprovision'
  | 'publish_count'
  | 'publish_size'
  | 'publish_resource_count';

/** Every metric, in the reference's order (the order getDeviceMetrics lists them in errors). */
export const DEVICE_METRIC_NAMES = [
  'connected',
  'connection',
  'disconnection',
  'deleted',
  'whitelisted',
  'provisioned',
  'expired',
  'locked',
  'reprovision',
  'publish_count',
  'publish_size',
  'publish_resource_count',
  'connection_error',
] as const satisfies readonly DeviceMetricName[];

// Fails to compile when a metric is missing from the list above.
const listsEveryMetric: Exclude<DeviceMetricName, (typeof DEVICE_METRIC_NAMES)[number]> extends never
  ? true
  : never = true;
void listsEveryMetric;

export interface DeviceMetricsRecorder {
  /** One occurrence (value 1) or a measured value (publish_size in bytes, publish_resource_count) for an identity (null = not attributable, e.g. bad token). `reason` only for connection_error. Must be cheap: called per MQTT publish at >50,000/s — no allocation per call beyond a map lookup, no I/O. */
  record(
    metric: Exclude<DeviceMetricName, 'connected'>,
    identity: string | null,
    value?: number,
    reason?: string,
  ): void;
  /**
   * One publish at `atMicros` (the publish's own server time: reading the clock costs more than the
   * rest of this call): publish_count 1, publish_size `bytes`, publish_resource_count `resources`.
   */
  recordPublish(identity: string, bytes: number, resources: number, atMicros: number): void;
}

/** Runs `task` every `intervalMs` until the returned function is called. */
export type Scheduler = (intervalMs: number, task: () => Promise<void>) => () => void;

/** setInterval, unref'd: pending metrics never keep the process alive. */
export const intervalScheduler: Scheduler = (intervalMs, task) => {
  const timer = setInterval(() => void task(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};

export interface DeviceMetricsDeps {
  store: DeviceMetricsStore;
  clock: Clock;
  /** Devices connected right now; sampled once a minute as the `connected` gauge. */
  connectedCount: () => number;
  scheduler?: Scheduler;
  /** Failures of the background flushes, which metrics never let reach a caller. */
  onError?: (error: unknown) => void;
}

export interface DeviceMetrics {
  recorder: DeviceMetricsRecorder;
  /** getDeviceMetrics: what is recorded so far, including what is not flushed yet. */
  query(params: GetDeviceMetricsParams): Promise<GetDeviceMetricsResult>;
  /** Samples the gauge and starts flushing every FLUSH_INTERVAL_MS. */
  start(): void;
  /** Stops the timer and flushes everything recorded; call before closing the store. */
  stop(): Promise<void>;
}

export const FLUSH_INTERVAL_MS = 10_000;
/** Rollups older than this are deleted while flushing. */
export const RETENTION_SECONDS = 30 * 24 * 3600;
/** Deleted per flush at most, so that a long backlog never stalls the event loop in one go. */
const PRUNE_BATCH = 10_000;
const MINUTE_MICROS = 60_000_000;

interface Cell {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * series → identity (null when not attributable) → cell. A series is a metric, or for
 * `connection_error` the metric and a reason (`seriesKey`): no map per identity and metric, which
 * a connect storm would make one of per device.
 */
type ByIdentity = Map<string | null, Cell>;
type MinuteCells = Map<string, ByIdentity>;
const REASON_SEPARATOR = '\u0000';
const seriesKey = (metric: DeviceMetricName, reason: string) =>
  reason === '' ? metric : `${metric}${REASON_SEPARATOR}${reason}`;
/** The three metrics of every publish, kept together: one lookup per publish instead of nine. */
interface PublishCells {
  count: number;
  size: Cell;
  resources: Cell;
}
interface Minute {
  cells: MinuteCells;
  publishes: Map<string, PublishCells>;
}

const cell = (value: number): Cell => ({ count: 1, sum: value, min: value, max: value });

function addTo(cell: Cell, value: number): void {
  cell.count += 1;
  cell.sum += value;
  if (value < cell.min) cell.min = value;
  if (value > cell.max) cell.max = value;
}

/**
 * Device metrics: counted in memory as per-minute rollups and written to the store every
 * FLUSH_INTERVAL_MS, and at stop(). A crash loses the last seconds of metrics, never data.
 */
export function createDeviceMetrics({
  store,
  clock,
  connectedCount,
  scheduler = intervalScheduler,
  onError = () => {},
}: DeviceMetricsDeps): DeviceMetrics {
  /** Minutes (seconds since the epoch) with what was recorded in them since the last flush. */
  let pending = new Map<number, Minute>();
  let currentMinute = -1;
  let current: Minute = { cells: new Map(), publishes: new Map() };
  let lastSampledMinute = -1;
  let cancel: (() => void) | undefined;
  const writes = new Set<Promise<void>>();

  /** The cells of the minute it is now. */
  function thisMinute(atMicros = clock.nowMicros()): Minute {
    const minute = Math.floor(atMicros / MINUTE_MICROS) * 60;
    if (minute !== currentMinute) {
      currentMinute = minute;
      let cells = pending.get(minute);
      if (!cells) pending.set(minute, (cells = { cells: new Map(), publishes: new Map() }));
      current = cells;
    }
    return current;
  }

  function add(metric: DeviceMetricName, identity: string | null, value: number, reason: string): void {
    const { cells } = thisMinute();
    const series = seriesKey(metric, reason);
    let byIdentity = cells.get(series);
    if (!byIdentity) cells.set(series, (byIdentity = new Map<string | null, Cell>()));
    const existing = byIdentity.get(identity);
    if (existing) addTo(existing, value);
    else byIdentity.set(identity, cell(value));
  }

  const recorder: DeviceMetricsRecorder = {
    record(metric, identity, value = 1, reason) {
      add(metric, identity, value, metric === 'connection_error' ? (reason ?? 'unknown') : '');
    },
    recordPublish(identity, bytes, resources, atMicros) {
      const { publishes } = thisMinute(atMicros);
      const cells = publishes.get(identity);
      if (!cells) {
        publishes.set(identity, { count: 1, size: cell(bytes), resources: cell(resources) });
        return;
      }
      cells.count += 1;
      addTo(cells.size, bytes);
      addTo(cells.resources, resources);
    },
  };

  function take(): MetricRollup[] {
    const taken = pending;
    pending = new Map();
    currentMinute = -1;
    const rollups: MetricRollup[] = [];
    for (const [minute, { cells, publishes }] of taken) {
      for (const [series, byIdentity] of cells) {
        const split = series.indexOf(REASON_SEPARATOR);
        const metric = (split < 0 ? series : series.slice(0, split)) as DeviceMetricName;
        const reason = split < 0 ? null : series.slice(split + 1);
        for (const [identity, cell] of byIdentity)
          rollups.push({ minute, metric, identity, reason, ...cell });
      }
      for (const [identity, { count, size, resources }] of publishes) {
        const rollup = { minute, identity, reason: null };
        rollups.push({ ...rollup, metric: 'publish_count', count, sum: count, min: 1, max: 1 });
        rollups.push({ ...rollup, metric: 'publish_size', ...size });
        rollups.push({ ...rollup, metric: 'publish_resource_count', ...resources });
      }
    }
    return rollups;
  }

  async function write(rollups: MetricRollup[]): Promise<void> {
    if (rollups.length > 0) await store.append(rollups);
    const now = Math.floor(clock.nowMicros() / 1e6);
    await store.prune(now - RETENTION_SECONDS, PRUNE_BATCH);
  }

  /** Writes everything recorded so far; a write still running when stop() is called is awaited. */
  function flush(): Promise<void> {
    const done = write(take());
    writes.add(done);
    return done.finally(() => writes.delete(done));
  }

  /** One `connected` sample a minute, whenever the first tick of the minute comes. */
  function sample(): void {
    const minute = Math.floor(clock.nowMicros() / MINUTE_MICROS) * 60;
    if (minute === lastSampledMinute) return;
    lastSampledMinute = minute;
    try {
      add('connected', null, connectedCount(), '');
    } catch (error) {
      onError(error);
    }
  }

  /** A failed write is reported and its rollups dropped: metrics are best effort. */
  async function tick(): Promise<void> {
    sample();
    try {
      await flush();
    } catch (error) {
      onError(error);
    }
  }

  return {
    recorder,
    async query(params) {
      // A timer's flush may be writing what was recorded before it: the answer includes that too.
      await Promise.allSettled([...writes]);
      await flush();
      return queryDeviceMetrics(store, params, clock.nowMicros());
    },
    start() {
      if (cancel) return;
      sample();
      cancel = scheduler(FLUSH_INTERVAL_MS, tick);
    },
    async stop() {
      cancel?.();
      cancel = undefined;
      try {
        await Promise.all([...writes, flush()]);
      } catch (error) {
        onError(error);
      }
    },
  };
}
