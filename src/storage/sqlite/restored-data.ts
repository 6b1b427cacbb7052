import type Database from 'better-sqlite3';
import type { ArchiveRow } from '../../core/archive-ports.js';
import type { RestoredSignal } from '../../core/restore-ports.js';
import { rollupsTableSql, samplesTableSql, type Partition } from './sample-partitions.js';
import { createSeriesWriter } from './series-writer.js';

/** Restored data of a month: tables of their own, which retention never sees (docs/archive.md). */
export function restoredPartitionOf(timestampUs: number): Partition {
  const date = new Date(Math.floor(timestampUs / 1000));
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const id = year * 100 + month + 1;
  return {
    retention: -1,
    month: id,
    table: `restored_${id}`,
    rollups: `restored_rollups_${id}`,
    startUs: Date.UTC(year, month, 1) * 1000,
    endUs: Date.UTC(year, month + 1, 1) * 1000,
  };
}

interface LivePartition {
  table_name: string;
  start_us: number;
  end_us: number;
}

const IN_LIST = 'IN (SELECT value FROM json_each(?))';

/**
 * Writes restored samples through the ingest's series writer (multi-row inserts, rollups from
 * partial aggregates, signals), into the restored partitions. Each call must run inside a
 * transaction.
 */
export function createRestoredDataWriter(db: Database.Database) {
  const known = new Set<number>();
  const load = () => {
    known.clear();
    for (const month of db.prepare('SELECT month FROM restored_partitions').pluck().all() as number[])
      known.add(month);
  };
  load();
  let expiresUs = 0;
  const register = db.prepare(
    `INSERT INTO restored_partitions (month, table_name, rollup_table, start_us, end_us, expires_us)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (month) DO UPDATE SET expires_us = max(expires_us, excluded.expires_us)`,
  );
  const partitions = {
    ensure(p: Partition) {
      if (known.has(p.month)) return;
      db.exec(samplesTableSql(p.table));
      db.exec(rollupsTableSql(p.rollups));
      register.run(p.month, p.table, p.rollups, p.startUs, p.endUs, expiresUs);
      known.add(p.month);
    },
    reset: load,
  };
  const writer = createSeriesWriter(db, partitions, (_retention, timestamp) =>
    restoredPartitionOf(timestamp),
  );
  const extend = db.prepare(
    `UPDATE restored_partitions SET expires_us = max(expires_us, ?) WHERE month ${IN_LIST}`,
  );
  const existing = db.prepare(`SELECT identity FROM identities WHERE identity ${IN_LIST}`).pluck();
  const live = db.prepare<[number, number], LivePartition>(
    'SELECT table_name, start_us, end_us FROM sample_partitions WHERE start_us <= ? AND end_us > ?',
  );

  const timesIn = new Map<string, Database.Statement>();

  /** Timestamps of a series already in live partitions within [from, to]. */
  function liveTimes(identity: string, signal: string, from: number, to: number): Set<number> | undefined {
    let times: Set<number> | undefined;
    for (const p of live.all(to, from)) {
      let statement = timesIn.get(p.table_name);
      if (!statement) {
        statement = db
          .prepare(
            `SELECT timestamp FROM ${p.table_name} WHERE identity = ? AND resource = ? AND timestamp BETWEEN ? AND ?`,
          )
          .pluck();
        timesIn.set(p.table_name, statement);
      }
      const found = statement.all(identity, signal, from, to) as number[];
      for (const t of found) (times ??= new Set()).add(t);
    }
    return times;
  }

  return {
    /** Rows in archive order (series by series), kept at least until `until`. */
    write(
      rows: ArchiveRow[],
      until: number,
    ): { samples: number; skipped: number; signals: RestoredSignal[] } {
      expiresUs = until;
      const identities = new Set(rows.map((r) => r[0]));
      const known = new Set(existing.all(JSON.stringify([...identities])) as string[]);
      const signals: RestoredSignal[] = [];
      const months = new Set<number>();
      let month: Partition | undefined;
      let samples = 0;
      let skipped = 0;
      for (let start = 0; start < rows.length;) {
        const [identity, signal, resource] = rows[start]!;
        let end = start;
        let [min, max] = [Infinity, -Infinity];
        for (; end < rows.length && rows[end]![0] === identity && rows[end]![1] === signal; end++) {
          const t = rows[end]![3];
          if (t < min) min = t;
          if (t > max) max = t;
        }
        if (!known.has(identity)) {
          skipped += end - start;
          start = end;
          continue;
        }
        const present = liveTimes(identity, signal, min, max);
        for (let i = start; i < end; i++) {
          const [, , , timestamp, receivedAt, value] = rows[i]!;
          samples++;
          if (present?.has(timestamp)) continue;
          writer.add(identity, { signal, resource, retention: -1, timestamp, value }, receivedAt);
          if (!month || timestamp < month.startUs || timestamp >= month.endUs) {
            month = restoredPartitionOf(timestamp);
            months.add(month.month);
          }
        }
        signals.push({ identity, signal, resource });
        start = end;
      }
      writer.write();
      if (months.size > 0) extend.run(until, JSON.stringify([...months]));
      return { samples, skipped, signals };
    },
    /** Drops the restored months expired at `now`; must run inside a transaction. */
    expire(now: number): number[] {
      const expired = db
        .prepare<[number], { month: number; table_name: string; rollup_table: string }>(
          'SELECT month, table_name, rollup_table FROM restored_partitions WHERE expires_us <= ?',
        )
        .all(now);
      for (const p of expired) {
        db.exec(`DROP TABLE IF EXISTS ${p.table_name}; DROP TABLE IF EXISTS ${p.rollup_table}`);
        db.prepare('DELETE FROM restored_partitions WHERE month = ?').run(p.month);
      }
      if (expired.length > 0) writer.reset();
      return expired.map((p) => p.month);
    },
    /** After a rollback, or live partitions dropped: what the writer knew may be stale. */
    reset() {
      writer.reset();
      timesIn.clear();
    },
  };
}
