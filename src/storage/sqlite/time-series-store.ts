import type Database from 'better-sqlite3';
import type {
  LatestQuery,
  RawQuery,
  RawSample,
  RollupQuery,
  RollupRow,
  SamplePartition,
  SignalRecord,
  TimeSeriesStore,
} from '../../core/time-series-ports.js';
import { writeTransaction } from './open-database.js';
import { NUMERIC, ROLLUP_WIDTHS } from './sample-partitions.js';
import { StatementCache } from './statement-cache.js';

interface PartitionRow {
  retention: number;
  month: number;
  table_name: string;
  rollup_table: string;
  start_us: number;
  end_us: number;
}

interface SignalRow {
  identity: string;
  signal: string;
  resource: string;
  metadata: string | null;
  created_at: number;
  last_value: string | number | null;
  last_update: number | null;
  last_insert: number | null;
}

/**
 * Above this many (partition, identity, signal) combinations a raw query reads each partition with
 * one `IN` scan and sorts, instead of one ordered index range per series (SQLite allows at most 500
 * terms in a compound SELECT).
 */
const MAX_RANGE_ARMS = 200;

const toRecord = (r: SignalRow): SignalRecord => ({
  identity: r.identity,
  signal: r.signal,
  resource: r.resource,
  metadata: r.metadata,
  createdAt: r.created_at,
  lastValue: r.last_value,
  lastUpdate: r.last_update,
  lastInsert: r.last_insert,
});

const IN_LIST = 'IN (SELECT value FROM json_each(?))';

/** The time-series reads (and partition drops) of the SQLite adapter; samples are written by ingest-store. */
export function createSqliteTimeSeriesStore(
  db: Database.Database,
  /** `settle` moves staged samples into their partitions (ingest-store.ts); every read calls it first. */
  options: { settle: () => void; partitionsDropped: () => void },
): TimeSeriesStore {
  const { settle } = options;
  const cache = new StatementCache(db);
  // Live partitions and those of restored data (docs/archive.md) alike.
  const overlapping = db.prepare<[number, number], PartitionRow>(
    'SELECT * FROM readable_partitions WHERE start_us < ? AND end_us > ? ORDER BY start_us, retention',
  );

  function raw(query: RawQuery): RawSample[] {
    const { identities, signals, from, to } = query;
    const parts = overlapping.all(to, from);
    if (parts.length === 0 || identities.length === 0 || signals.length === 0) return [];
    const columns = 'identity, resource AS signal, timestamp, received_at AS receivedAt, value';
    const arms: string[] = [];
    const params: unknown[] = [];
    const perSeries = parts.length * identities.length * signals.length <= MAX_RANGE_ARMS;
    for (const part of parts) {
      if (perSeries) {
        for (const identity of identities) {
          for (const signal of signals) {
            arms.push(
              `SELECT ${columns} FROM ${part.table_name} WHERE identity = ? AND resource = ? AND timestamp >= ? AND timestamp < ?`,
            );
            params.push(identity, signal, from, to);
          }
        }
      } else {
        arms.push(
          `SELECT ${columns} FROM ${part.table_name} WHERE identity ${IN_LIST} AND resource ${IN_LIST} AND timestamp >= ? AND timestamp < ?`,
        );
        params.push(JSON.stringify(identities), JSON.stringify(signals), from, to);
      }
    }
    const direction = query.descending ? 'DESC' : 'ASC';
    const key = query.sortBy === 'server' ? `receivedAt ${direction}, timestamp` : 'timestamp';
    // A compound SELECT with ORDER BY merges its arms, each read in index order, and stops at LIMIT.
    const sql = `${arms.join(' UNION ALL ')} ORDER BY ${key} ${direction}, identity ${direction}, signal ${direction} LIMIT ? OFFSET ?`;
    return cache.get(sql).all(...params, query.limit, query.offset) as RawSample[];
  }

  function rollups(query: RollupQuery): RollupRow[] {
    const { identities, signals, from, to, width } = query;
    if (identities.length === 0 || signals.length === 0 || from >= to) return [];
    const widthUs = width * 1_000_000;
    // 5 minutes are not kept: they are made of the 1-minute rollups.
    const source = [...ROLLUP_WIDTHS].reverse().find((w) => width % w === 0)!;
    const firstFull = Math.ceil(from / widthUs) * widthUs;
    const fullEnd = Math.floor(to / widthUs) * widthUs;
    const ids = JSON.stringify(identities);
    const names = JSON.stringify(signals);
    const arms: string[] = [];
    const params: unknown[] = [];
    const bucketOf = (column: string) => `(${column} / ${widthUs}) * ${widthUs}`;
    // Samples of buckets the range cuts: only those inside the range count.
    const fromSamples = (start: number, end: number) => {
      if (start >= end) return;
      for (const part of overlapping.all(end, start)) {
        arms.push(`SELECT identity, resource AS signal, ${bucketOf('timestamp')} AS b, 1 AS c,
          ${NUMERIC} AS s, ${NUMERIC} AS lo, ${NUMERIC} AS hi FROM ${part.table_name}
          WHERE identity ${IN_LIST} AND resource ${IN_LIST} AND timestamp >= ? AND timestamp < ?`);
        params.push(ids, names, start, end);
      }
    };
    if (firstFull >= fullEnd) fromSamples(from, to);
    else {
      fromSamples(from, firstFull);
      for (const part of overlapping.all(fullEnd, firstFull)) {
        arms.push(`SELECT identity, signal, ${bucketOf('bucket')} AS b, count AS c, sum AS s, min AS lo, max AS hi
          FROM ${part.rollup_table} WHERE identity ${IN_LIST} AND signal ${IN_LIST} AND width = ${source}
          AND bucket >= ? AND bucket < ?`);
        params.push(ids, names, firstFull, fullEnd);
      }
      fromSamples(fullEnd, to);
    }
    if (arms.length === 0) return [];
    const sql = `SELECT identity, signal, b AS bucket, sum(c) AS count, sum(s) AS sum, min(lo) AS min, max(hi) AS max
      FROM (${arms.join(' UNION ALL ')}) GROUP BY identity, signal, b
      ORDER BY b DESC, identity, signal LIMIT ? OFFSET ?`;
    return cache.get(sql).all(...params, query.limit, query.offset) as RollupRow[];
  }

  function latest(query: LatestQuery): { rows: SignalRecord[]; total: number } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.identities) {
      where.push(`identity ${IN_LIST}`);
      params.push(JSON.stringify(query.identities));
    }
    if (query.signals) {
      where.push(`signal ${IN_LIST}`);
      params.push(JSON.stringify(query.signals));
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const direction = query.reverse ? 'DESC' : 'ASC';
    const order =
      query.sortKey === 'signal'
        ? `signal ${direction}, identity ${direction}`
        : `identity ${direction}, signal ${direction}`;
    const rows = cache
      .get(`SELECT * FROM signals ${filter} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...params, query.limit, query.offset) as SignalRow[];
    const total = cache
      .get(`SELECT count(*) FROM signals ${filter}`)
      .pluck()
      .get(...params) as number;
    return { rows: rows.map(toRecord), total };
  }

  const drop = writeTransaction(db, (retention: number, month: number) => {
    const row = db
      .prepare<[number, number], PartitionRow>(
        'SELECT * FROM sample_partitions WHERE retention = ? AND month = ?',
      )
      .get(retention, month);
    if (!row) return false;
    db.exec(`DROP TABLE IF EXISTS ${row.table_name}; DROP TABLE IF EXISTS ${row.rollup_table}`);
    db.prepare('DELETE FROM sample_partitions WHERE retention = ? AND month = ?').run(retention, month);
    return true;
  });

  return {
    async signals(identity, names) {
      settle();
      const sql = `SELECT * FROM signals WHERE identity = ?${names ? ` AND signal ${IN_LIST}` : ''} ORDER BY signal`;
      const params: unknown[] = names ? [identity, JSON.stringify(names)] : [identity];
      return (cache.get(sql).all(...params) as SignalRow[]).map(toRecord);
    },
    async identitiesWithSignal(signal, identities) {
      settle();
      const sql = `SELECT identity FROM signals WHERE signal = ?${identities ? ` AND identity ${IN_LIST}` : ''} ORDER BY identity`;
      const params: unknown[] = identities ? [signal, JSON.stringify(identities)] : [signal];
      return cache
        .get(sql)
        .pluck()
        .all(...params) as string[];
    },
    async raw(query) {
      settle();
      return raw(query);
    },
    async rollups(query) {
      settle();
      return rollups(query);
    },
    async latest(query) {
      settle();
      return latest(query);
    },
    async partitions(): Promise<SamplePartition[]> {
      settle();
      return (
        db.prepare('SELECT * FROM sample_partitions ORDER BY start_us, retention').all() as PartitionRow[]
      ).map((r) => ({ retention: r.retention, month: r.month, startUs: r.start_us, endUs: r.end_us }));
    },
    async dropPartition({ retention, month }) {
      settle();
      const dropped = drop(retention, month);
      // Whether or not this call dropped it, the ingest writer must not use what it knew of it.
      options.partitionsDropped();
      return dropped;
    },
  };
}
