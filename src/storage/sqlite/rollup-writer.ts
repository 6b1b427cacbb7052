import type Database from 'better-sqlite3';
import { placeholders, runChunked } from './multi-row.js';
import { NUMERIC, ROLLUP_WIDTHS, type Partition } from './sample-partitions.js';

/** count/sum/min/max of some samples; sum/min/max null while none was numeric. */
export interface Agg {
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
}

/** The partial aggregates of one series in one transaction, per width (ROLLUP_WIDTHS) and bucket. */
export interface SeriesBuckets {
  identity: string;
  signal: string;
  widths: Map<number, Agg>[];
  /** Per width, the bucket last added to and its aggregate (samples mostly come in order). */
  lastBucket: number[];
  lastAgg: (Agg | undefined)[];
}

const COLUMNS = 8;
const BASE_US = ROLLUP_WIDTHS[0] * 1_000_000;

/**
 * Adds a transaction's partial aggregates to a partition's rollups: one multi-row upsert per
 * partition and width. Buckets holding a replaced sample are recomputed instead: the smallest
 * width from the samples, the larger ones from the smallest (written just before).
 */
export function createRollupWriter(db: Database.Database, statements: Map<string, Database.Statement>) {
  function prepared(key: string, sql: () => string): Database.Statement {
    let statement = statements.get(key);
    if (!statement) statements.set(key, (statement = db.prepare(sql())));
    return statement;
  }
  const upsert = (p: Partition) => (rows: number) =>
    prepared(
      `${p.rollups}:upsert:${rows}`,
      () => `INSERT INTO ${p.rollups} (identity, signal, width, bucket, count, sum, min, max)
      VALUES ${placeholders(rows, COLUMNS)} ON CONFLICT DO UPDATE SET
        count = ${p.rollups}.count + excluded.count,
        sum = coalesce(${p.rollups}.sum + excluded.sum, ${p.rollups}.sum, excluded.sum),
        min = coalesce(min(${p.rollups}.min, excluded.min), ${p.rollups}.min, excluded.min),
        max = coalesce(max(${p.rollups}.max, excluded.max), ${p.rollups}.max, excluded.max)`,
    );
  const fromSamples = (p: Partition) =>
    prepared(
      `${p.rollups}:from-samples`,
      () => `INSERT OR REPLACE INTO ${p.rollups} (identity, signal, width, bucket, count, sum, min, max)
      SELECT @identity, @signal, @width, @bucket, count(*), sum(n), min(n), max(n) FROM (SELECT ${NUMERIC} AS n FROM ${p.table}
        WHERE identity = @identity AND resource = @signal AND timestamp >= @bucket AND timestamp < @bucket + @width * 1000000)`,
    );
  const fromBase = (p: Partition) =>
    prepared(
      `${p.rollups}:from-base`,
      () => `INSERT OR REPLACE INTO ${p.rollups} (identity, signal, width, bucket, count, sum, min, max)
      SELECT @identity, @signal, @width, @bucket, sum(count), sum(sum), min(min), max(max) FROM ${p.rollups}
        WHERE identity = @identity AND signal = @signal AND width = ${ROLLUP_WIDTHS[0]}
          AND bucket >= @bucket AND bucket < @bucket + @width * 1000000`,
    );

  return {
    /** `dirty`: `identity\0signal\0base bucket` of every replaced sample. */
    write(partition: Partition, series: Iterable<SeriesBuckets>, dirty: Set<string>): void {
      const all = [...series];
      for (let w = 0; w < ROLLUP_WIDTHS.length; w++) {
        const width = ROLLUP_WIDTHS[w]!;
        const widthUs = width * 1_000_000;
        const params: unknown[] = [];
        const recompute: [string, string, number][] = [];
        for (const s of all) {
          for (const [bucket, agg] of s.widths[w]!) {
            if (dirty.size > 0 && holdsDirty(dirty, `${s.identity}\u0000${s.signal}`, bucket, widthUs))
              recompute.push([s.identity, s.signal, bucket]);
            else params.push(s.identity, s.signal, width, bucket, agg.count, agg.sum, agg.min, agg.max);
          }
        }
        runChunked(upsert(partition), params, COLUMNS);
        const statement = w === 0 ? fromSamples(partition) : fromBase(partition);
        for (const [identity, signal, bucket] of recompute)
          statement.run({ identity, signal, width, bucket });
      }
    },
  };
}

function holdsDirty(dirty: Set<string>, key: string, bucket: number, widthUs: number): boolean {
  for (let base = bucket; base < bucket + widthUs; base += BASE_US) {
    if (dirty.has(`${key}\u0000${base}`)) return true;
  }
  return false;
}

/** A series' empty partial aggregates, one map of buckets per width. */
export function newBuckets(identity: string, signal: string): SeriesBuckets {
  return {
    identity,
    signal,
    widths: ROLLUP_WIDTHS.map(() => new Map<number, Agg>()),
    lastBucket: ROLLUP_WIDTHS.map(() => -1),
    lastAgg: ROLLUP_WIDTHS.map(() => undefined),
  };
}

export function newAgg(numeric: number | null): Agg {
  return { count: 1, sum: numeric, min: numeric, max: numeric };
}

/** Adds one sample to a partial aggregate (text counts only). */
export function addTo(agg: Agg, numeric: number | null): void {
  agg.count++;
  if (numeric === null) return;
  if (agg.sum === null) {
    agg.sum = agg.min = agg.max = numeric;
    return;
  }
  agg.sum += numeric;
  if (numeric < agg.min!) agg.min = numeric;
  if (numeric > agg.max!) agg.max = numeric;
}
