import type { DeviceMetricsQuery, DeviceMetricsStore } from './device-metrics-ports.js';
import { invalidParameter } from './errors.js';
import type { GetDeviceMetricsParams, GetDeviceMetricsResult } from './schemas/device-metrics.js';

const WINDOWS = { '1m': 60, '5m': 300, '1h': 3600 } as const;

/** `2024-07-29T07:40:00.000000Z`, the reference's shape: UTC with six fractional digits. */
export function metricTime(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.000000Z`;
}

/** Parameters with the reference's defaults, as a store query; refuses a range that ends before it starts. */
export function deviceMetricsQuery(params: GetDeviceMetricsParams, nowMicros: number): DeviceMetricsQuery {
  const now = Math.floor(nowMicros / 1e6);
  // The range is [start_time, end_time). Now, the default end, includes its own second: otherwise
  // during the first second of a minute that minute, with what was just recorded, would be left out.
  const to = params.end_time ?? now + 1;
  const from = params.start_time ?? to - 3600;
  const end = params.end_time ?? now;
  if (from > end) {
    throw invalidParameter(
      'start_time',
      `${from} is after end_time ${end}${params.end_time === undefined ? ' (now)' : ''}`,
    );
  }
  const metric = params.metric_name ?? 'connected';
  const fn = params.aggregate_fn ?? 'count';
  // `connected` is a gauge sampled once a minute: counting its samples would say nothing, so its
  // count is the peak number connected, and there is only one sample (without identity) a minute.
  const gauge = metric === 'connected';
  return {
    metric,
    window: WINDOWS[params.aggregate_window ?? '1h'],
    fn: gauge && fn === 'count' ? 'max' : fn,
    distinct: !gauge && (params.distinct ?? false),
    byReason: metric === 'connection_error',
    from,
    to,
    limit: params.limit ?? 200,
    offset: params.offset ?? 0,
  };
}

export async function queryDeviceMetrics(
  store: DeviceMetricsStore,
  params: GetDeviceMetricsParams,
  nowMicros: number,
): Promise<GetDeviceMetricsResult> {
  const query = deviceMetricsQuery(params, nowMicros);
  const points = await store.query(query);
  return points.map((point) => ({
    time: metricTime(point.time),
    value: point.value,
    ...(query.byReason && { connection_error: point.reason ?? 'unknown' }),
  }));
}
