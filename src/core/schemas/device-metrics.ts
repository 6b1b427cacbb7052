import { Type, type Static } from '@sinclair/typebox';
import { DEVICE_METRIC_NAMES } from '../device-metrics.js';

const Timestamp = (description: string) =>
  Type.Integer({ minimum: 1_000_000_000, maximum: 9_999_999_999, description });

export const GetDeviceMetricsParams = Type.Object(
  {
    aggregate_window: Type.Optional(
      Type.Union([Type.Literal('1m'), Type.Literal('5m'), Type.Literal('1h')], {
        default: '1h',
        description: 'Window length; windows start at multiples of it (UTC).',
      }),
    ),
    aggregate_fn: Type.Optional(
      Type.Union(
        [
          Type.Literal('count'),
          Type.Literal('max'),
          Type.Literal('min'),
          Type.Literal('sum'),
          Type.Literal('avg'),
        ],
        { default: 'count', description: 'Aggregate function.' },
      ),
    ),
    start_time: Type.Optional(
      Timestamp('Start, UTC seconds since the epoch. Default: end_time - 1 h. Not after end_time.'),
    ),
    end_time: Type.Optional(Timestamp('End (exclusive), UTC seconds since the epoch. Default: now.')),
    metric_name: Type.Optional(
      Type.Union(
        DEVICE_METRIC_NAMES.map((name) => Type.Literal(name)),
        { default: 'connected', description: 'Metric name.' },
      ),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, default: 200 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    distinct: Type.Optional(
      Type.Boolean({
        description:
          'Group by device first: count is the number of distinct devices, other functions apply to per-device sums.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type GetDeviceMetricsParams = Static<typeof GetDeviceMetricsParams>;

export const DeviceMetricPoint = Type.Object({
  time: Type.String({ description: 'Start of the window, UTC: 2024-07-29T07:40:00.000000Z.' }),
  value: Type.Number({ description: 'Aggregated value.' }),
  connection_error: Type.Optional(
    Type.String({ description: 'The reason of the refusals; only for the metric connection_error.' }),
  ),
});

export const GetDeviceMetricsResult = Type.Array(DeviceMetricPoint);
export type GetDeviceMetricsResult = Static<typeof GetDeviceMetricsResult>;
