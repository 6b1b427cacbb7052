import type Database from 'better-sqlite3';
import type { Sample, SignalDeclaration } from '../../core/device-ports.js';
import type { ResourceValue } from '../../core/schemas/common.js';
import { placeholders, runChunked } from './multi-row.js';
import { addTo, createRollupWriter, newAgg, newBuckets, type SeriesBuckets } from './rollup-writer.js';
import { partitionOf, ROLLUP_WIDTHS, type createPartitioner, type Partition } from './sample-partitions.js';

const SAMPLE_COLUMNS = 5;
const SIGNAL_COLUMNS = 7;
const WIDTHS_US = ROLLUP_WIDTHS.map((w) => w * 1_000_000);

/** SQLite has no boolean: samples of boolean resources are stored as 1 and 0. */
export const storable = (value: ResourceValue) => (typeof value === 'boolean' ? (value ? 1 : 0) : value);

interface PartitionBatch {
  partition: Partition;
  /** identity, signal, timestamp, received_at, value per sample. */
  rows: unknown[];
  series: Map<SeriesState, SeriesBuckets>;
}

/** One series in one transaction: its newest sample, and its partial aggregates where it was last written. */
interface SeriesState {
  identity: string;
  signal: string;
  resource: string;
  timestamp: number;
  receivedAt: number;
  /** When the first sample of this transaction arrived: the signal's creation, if it is new. */
  firstReceivedAt: number;
  value: string | number;
  buckets: SeriesBuckets;
  batch: PartitionBatch;
}

/**
 * Collects the samples of one ingest transaction and writes them with what they change, inside
 * that transaction: the samples (multi-row inserts per partition), their rollups (one upsert per
 * series and bucket, from partial aggregates computed here) and the newest value of each signal
 * (one upsert per series). A sample that replaces a stored one (same identity, signal and time) has
 * its buckets recomputed from the stored samples instead, so rollups stay exact.
 */
export function createSeriesWriter(
  db: Database.Database,
  partitions: Pick<ReturnType<typeof createPartitioner>, 'ensure' | 'reset'>,
  /** Where a sample goes; restored data (docs/archive.md) has partitions of its own. */
  locate: (retention: number, timestamp: number) => Partition = partitionOf,
) {
  const statements = new Map<string, Database.Statement>();
  const pending = new Map<string, PartitionBatch>();
  /** identity -> signal -> its state in this transaction. */
  const seriesOf = new Map<string, Map<string, SeriesState>>();
  const touched: SeriesState[] = [];
  const declared: unknown[] = [];
  const rollups = createRollupWriter(db, statements);
  let last: PartitionBatch | undefined;

  function prepared(key: string, sql: () => string): Database.Statement {
    let statement = statements.get(key);
    if (!statement) statements.set(key, (statement = db.prepare(sql())));
    return statement;
  }

  const insertSamples = (p: Partition) => (rows: number) =>
    prepared(`${p.table}:insert:${rows}`, () => {
      partitions.ensure(p);
      return `INSERT INTO ${p.table} (identity, resource, timestamp, received_at, value)
        VALUES ${placeholders(rows, SAMPLE_COLUMNS)} ON CONFLICT DO NOTHING`;
    });
  const replaceSample = (p: Partition) =>
    prepared(
      `${p.table}:replace`,
      () =>
        `UPDATE ${p.table} SET received_at = ?, value = ? WHERE identity = ? AND resource = ? AND timestamp = ?`,
    );
  const upsertSignals = (rows: number) =>
    prepared(
      `signals:${rows}`,
      () => `INSERT INTO signals (identity, signal, resource, created_at, last_value, last_update, last_insert)
      VALUES ${placeholders(rows, SIGNAL_COLUMNS)} ON CONFLICT (identity, signal) DO UPDATE SET
        last_value = excluded.last_value, last_update = excluded.last_update, last_insert = excluded.last_insert
      WHERE signals.last_update IS NULL OR excluded.last_update >= signals.last_update`,
    );
  const declare = () =>
    prepared(
      'signals:declare',
      () => `INSERT INTO signals (identity, signal, resource, metadata, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (identity, signal) DO UPDATE SET metadata = excluded.metadata`,
    );

  /**
   * Writes a partition's samples; a chunk that did not insert every row met stored samples (or
   * repeated itself): each of its rows is then written over, and its buckets marked for recompute.
   */
  function writeSamples(batch: PartitionBatch): Set<string> {
    const dirty = new Set<string>();
    const { partition } = batch;
    const rows = inKeyOrder(batch.rows);
    runChunked(insertSamples(partition), rows, SAMPLE_COLUMNS, (result, first, count) => {
      if (result.changes === count) return;
      const replace = replaceSample(partition);
      for (let row = first; row < first + count; row++) {
        const [identity, signal, timestamp, receivedAt, value] = rows.slice(
          row * SAMPLE_COLUMNS,
          (row + 1) * SAMPLE_COLUMNS,
        ) as [string, string, number, number, unknown];
        replace.run(receivedAt, value, identity, signal, timestamp);
        dirty.add(`${identity}\u0000${signal}\u0000${timestamp - (timestamp % WIDTHS_US[0]!)}`);
      }
    });
    return dirty;
  }

  return {
    add(identity: string, sample: Sample, receivedAt: number): void {
      const { timestamp, retention, signal } = sample;
      let batch = last;
      const p = batch?.partition;
      if (!batch || !p || timestamp < p.startUs || timestamp >= p.endUs || p.retention !== retention) {
        const partition = locate(retention, timestamp);
        batch = pending.get(partition.table);
        if (!batch) pending.set(partition.table, (batch = { partition, rows: [], series: new Map() }));
        last = batch;
      }
      const value = storable(sample.value);
      batch.rows.push(identity, signal, timestamp, receivedAt, value);
      // This runs once per sample on the device hot path: nested maps instead of composite string
      // keys, and the bucket of the previous sample checked before any map.
      let bySignal = seriesOf.get(identity);
      if (!bySignal) seriesOf.set(identity, (bySignal = new Map<string, SeriesState>()));
      let series = bySignal.get(signal);
      if (!series) {
        const buckets = newBuckets(identity, signal);
        series = {
          identity,
          signal,
          resource: sample.resource,
          timestamp,
          receivedAt,
          firstReceivedAt: receivedAt,
          value,
          buckets,
          batch,
        };
        bySignal.set(signal, series);
        batch.series.set(series, buckets);
        touched.push(series);
      } else if (series.timestamp <= timestamp) {
        series.timestamp = timestamp;
        series.receivedAt = receivedAt;
        series.value = value;
      }
      let buckets = series.buckets;
      if (series.batch !== batch) {
        let other = batch.series.get(series);
        if (!other) batch.series.set(series, (other = newBuckets(identity, signal)));
        series.buckets = buckets = other;
        series.batch = batch;
      }
      const numeric = typeof value === 'number' ? value : null;
      for (let w = 0; w < WIDTHS_US.length; w++) {
        const bucket = timestamp - (timestamp % WIDTHS_US[w]!);
        if (buckets.lastBucket[w] === bucket) {
          addTo(buckets.lastAgg[w]!, numeric);
          continue;
        }
        const aggs = buckets.widths[w]!;
        let agg = aggs.get(bucket);
        if (!agg) aggs.set(bucket, (agg = newAgg(numeric)));
        else addTo(agg, numeric);
        buckets.lastBucket[w] = bucket;
        buckets.lastAgg[w] = agg;
      }
    },
    /** A signal to create (or whose metadata to replace) in this transaction. */
    declare(identity: string, signal: SignalDeclaration, at: number): void {
      declared.push(identity, signal.signal, signal.resource, signal.metadata, at);
    },
    /** Writes what was added; must run inside the transaction. */
    write(): void {
      for (let k = 0; k < declared.length; k += 5) declare().run(declared.slice(k, k + 5));
      for (const batch of pending.values())
        rollups.write(batch.partition, batch.series.values(), writeSamples(batch));
      const params: unknown[] = [];
      for (const n of touched)
        params.push(n.identity, n.signal, n.resource, n.firstReceivedAt, n.value, n.timestamp, n.receivedAt);
      runChunked(upsertSignals, params, SIGNAL_COLUMNS);
      this.clear();
    },
    clear(): void {
      pending.clear();
      seriesOf.clear();
      touched.length = 0;
      declared.length = 0;
      last = undefined;
    },
    /** After a rollback or a dropped partition: cached statements and known partitions are stale. */
    reset(): void {
      this.clear();
      statements.clear();
      partitions.reset();
    },
  };
}

/**
 * The rows sorted by key (identity, signal, time), stably, so that a repeated key keeps its order:
 * consecutive inserts then land on the same B-tree page, which makes a commit of interleaved
 * devices' samples about a sixth cheaper (measured with 50 devices, 1,100 samples per commit).
 */
function inKeyOrder(rows: unknown[]): unknown[] {
  const count = rows.length / SAMPLE_COLUMNS;
  if (count < 2) return rows;
  const order = Array.from({ length: count }, (_, k) => k * SAMPLE_COLUMNS);
  order.sort((a, b) => {
    const ia = rows[a] as string;
    const ib = rows[b] as string;
    if (ia !== ib) return ia < ib ? -1 : 1;
    const sa = rows[a + 1] as string;
    const sb = rows[b + 1] as string;
    if (sa !== sb) return sa < sb ? -1 : 1;
    return (rows[a + 2] as number) - (rows[b + 2] as number);
  });
  const sorted = new Array<unknown>(rows.length);
  let at = 0;
  for (const start of order) for (let c = 0; c < SAMPLE_COLUMNS; c++) sorted[at++] = rows[start + c];
  return sorted;
}
