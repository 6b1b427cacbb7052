import type Database from 'better-sqlite3';
import { DEVICE_METRIC_NAMES } from '../../core/device-metrics.js';
import type {
  AggregateFn,
  DeviceMetricsQuery,
  DeviceMetricsStore,
  MetricPoint,
  MetricRollup,
} from '../../core/device-metrics-ports.js';
import { writeTransaction } from './open-database.js';
import { StatementCache } from './statement-cache.js';

/** Aggregates over the rollups of a window. */
const OVER_ROLLUPS: Record<AggregateFn, string> = {
  count: 'SUM(n)',
  sum: 'SUM(total)',
  min: 'MIN(low)',
  max: 'MAX(high)',
  avg: 'SUM(total) / SUM(n)',
};

/** Aggregates over the per-identity sums of a window (`distinct`). */
const OVER_IDENTITIES: Record<AggregateFn, string> = {
  count: 'COUNT(*)',
  sum: 'SUM(device_total)',
  min: 'MIN(device_total)',
  max: 'MAX(device_total)',
  avg: 'AVG(device_total)',
};

const WINDOWS = new Set([60, 300, 3600]);

/** One SELECT for a query; every part that varies is taken from the fixed tables above. */
export function metricsSql(
  query: Pick<DeviceMetricsQuery, 'fn' | 'window' | 'distinct' | 'byReason'>,
): string {
  if (!WINDOWS.has(query.window)) throw new Error(`unsupported window ${query.window}`);
  const time = `(minute / ${query.window}) * ${query.window}`;
  const range = 'metric = ? AND minute > ? AND minute < ?';
  const groups = query.byReason ? 'time, reason' : 'time';
  const reason = query.byReason ? 'reason' : "''";
  if (!query.distinct) {
    return (
      `SELECT ${time} AS time, ${reason} AS reason, ${OVER_ROLLUPS[query.fn]} AS value ` +
      `FROM device_metric_minutes WHERE ${range} GROUP BY ${groups} ORDER BY ${groups} LIMIT ? OFFSET ?`
    );
  }
  return (
    `SELECT time, reason, ${OVER_IDENTITIES[query.fn]} AS value FROM (` +
    `SELECT ${time} AS time, ${reason} AS reason, identity, SUM(total) AS device_total ` +
    `FROM device_metric_minutes WHERE ${range} AND identity <> '' GROUP BY ${groups}, identity) ` +
    `GROUP BY ${groups} ORDER BY ${groups} LIMIT ? OFFSET ?`
  );
}

export function createSqliteDeviceMetricsStore(
  db: Database.Database,
  /** Runs a flush when the write lock is likely free (ingest-store.ts `whenIdle`). */
  whenIdle: (write: () => void) => void = (write) => write(),
): DeviceMetricsStore {
  const statements = new StatementCache(db, 50);
  const upsert = db.prepare<[string, number, string, string, number, number, number, number]>(
    `INSERT INTO device_metric_minutes (metric, minute, identity, reason, n, total, low, high)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (metric, minute, identity, reason) DO UPDATE SET
       n = n + excluded.n, total = total + excluded.total,
       low = min(low, excluded.low), high = max(high, excluded.high)`,
  );
  const append = writeTransaction(db, (rollups: MetricRollup[]) => {
    for (const r of rollups) {
      upsert.run(r.metric, r.minute, r.identity ?? '', r.reason ?? '', r.count, r.sum, r.min, r.max);
    }
  });
  const pruneMetric = db.prepare<[string, number, string, number, number]>(
    `DELETE FROM device_metric_minutes WHERE metric = ? AND minute < ? AND (minute, identity, reason) IN (
       SELECT minute, identity, reason FROM device_metric_minutes WHERE metric = ? AND minute < ? LIMIT ?)`,
  );
  return {
    append(rollups) {
      return new Promise<void>((resolve, reject) =>
        whenIdle(() => {
          try {
            append(rollups);
            resolve();
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        }),
      );
    },
    async query(query) {
      if (query.from >= query.to) return [];
      const rows = statements
        .get(metricsSql(query))
        .all(query.metric, query.from - 60, query.to, query.limit, query.offset) as {
        time: number;
        reason: string;
        value: number;
      }[];
      return rows.map((row): MetricPoint => ({
        time: row.time,
        value: row.value,
        reason: row.reason === '' ? null : row.reason,
      }));
    },
    async prune(before, limit) {
      let removed = 0;
      for (const metric of DEVICE_METRIC_NAMES) {
        if (removed >= limit) break;
        removed += pruneMetric.run(metric, before, metric, before, limit - removed).changes;
      }
      return removed;
    },
  };
}
