import type Database from 'better-sqlite3';
import { DAY_US, dayStart } from '../../core/archive-day.js';
import type {
  ArchiveRow,
  ArchiveSource,
  DayReader,
  DaySource,
  SealedPartition,
} from '../../core/archive-ports.js';
import type { ResourceValue } from '../../core/schemas/common.js';
import { writeTransaction } from './open-database.js';

/** Rows per page read: large enough to amortise a statement, small enough to hold the loop briefly. */
const PAGE = 8192;

interface SealRow {
  id: number;
  retention: number;
  month: number;
  table_name: string;
  start_us: number;
  end_us: number;
  days: string | null;
}

const toSealed = (r: SealRow): SealedPartition => ({
  id: r.id,
  retention: r.retention,
  month: r.month,
  startUs: r.start_us,
  endUs: r.end_us,
  daysDone: r.days ? r.days.split(',').sort() : [],
});

/** The series of a samples table, in key order: one index seek each (a skip-scan of the key). */
function* seriesOf(db: Database.Database, table: string): Generator<[identity: string, signal: string]> {
  const first = db
    .prepare(`SELECT identity, resource FROM ${table} ORDER BY identity, resource LIMIT 1`)
    .raw(true);
  // On the whole key: a seek past the series' last row. With `(identity, resource) > (?, ?)`
  // SQLite would step through every row of the series to get past it.
  const after = db
    .prepare(
      `SELECT identity, resource FROM ${table} WHERE (identity, resource, timestamp) > (?, ?, ${Number.MAX_SAFE_INTEGER})
       ORDER BY identity, resource, timestamp LIMIT 1`,
    )
    .raw(true);
  for (
    let series = first.get() as [string, string] | undefined;
    series;
    series = after.get(...series) as [string, string] | undefined
  )
    yield series;
}

/** Reads the samples of one day from a samples table, series by series, each in index order. */
export function readTableDay(
  db: Database.Database,
  table: string,
  day: string,
): AsyncGenerator<ArchiveRow[]> {
  const from = dayStart(day)!;
  const to = from + DAY_US;
  const page = db
    .prepare(
      `SELECT timestamp, received_at, value FROM ${table}
       WHERE identity = ? AND resource = ? AND timestamp >= ? AND timestamp < ? ORDER BY timestamp LIMIT ${PAGE}`,
    )
    .raw(true);
  const resourceOf = db.prepare('SELECT resource FROM signals WHERE identity = ? AND signal = ?').pluck();
  return (async function* () {
    for (const [identity, signal] of seriesOf(db, table)) {
      const resource = (resourceOf.get(identity, signal) as string | undefined) ?? signal;
      let start = from;
      for (;;) {
        const rows = page.all(identity, signal, start, to) as [number, number, ResourceValue][];
        if (rows.length === 0) break;
        yield rows.map(([timestamp, receivedAt, value]): ArchiveRow => [
          identity,
          signal,
          resource,
          timestamp,
          receivedAt,
          value,
        ]);
        if (rows.length < PAGE) break;
        start = rows[rows.length - 1]![0] + 1;
      }
    }
  })();
}

/** The live samples of days: what `fleetgate archive` reads, with a connection of its own. */
export function createSqliteDayReader(db: Database.Database): DayReader {
  const liveTable = db
    .prepare<[number, number, number], string>(
      'SELECT table_name FROM sample_partitions WHERE retention = ? AND start_us <= ? AND end_us > ?',
    )
    .pluck();
  const classes = db
    .prepare<[number, number], number>(
      'SELECT DISTINCT retention FROM sample_partitions WHERE start_us < ? AND end_us > ? ORDER BY retention',
    )
    .pluck();
  const tableOf = (retention: number, day: string) => {
    const start = dayStart(day)!;
    const table = liveTable.get(retention, start, start);
    if (table === undefined) throw new Error(`no samples of retention class ${retention} on ${day}`);
    return table;
  };
  return {
    async classesOn(day) {
      const from = dayStart(day)!;
      return classes.all(from + DAY_US, from);
    },
    async countDay(day) {
      const from = dayStart(day)!;
      let count = 0;
      for (const retention of classes.all(from + DAY_US, from)) {
        const table = tableOf(retention, day);
        const range = db
          .prepare(
            `SELECT count(*) FROM ${table} WHERE identity = ? AND resource = ? AND timestamp >= ? AND timestamp < ?`,
          )
          .pluck();
        for (const [identity, signal] of seriesOf(db, table))
          count += range.get(identity, signal, from, from + DAY_US) as number;
      }
      return count;
    },
    readDay(source, day) {
      if (!('retention' in source)) throw new Error('a day reader reads live samples only');
      return readTableDay(db, tableOf(source.retention, day), day);
    },
  };
}

/** The database side of archiving (core/archive-ports.ts). */
export function createSqliteArchiveSource(
  db: Database.Database,
  /** `settle` moves staged samples into their partitions (ingest-store.ts): the live reads call it first. */
  options: { settle: () => void; partitionsDropped: () => void },
): ArchiveSource {
  const { settle } = options;
  const live = createSqliteDayReader(db);
  const sealedTable = db
    .prepare<[number], string>('SELECT table_name FROM archive_seals WHERE id = ?')
    .pluck();
  const sealedList = db.prepare<[], SealRow>(
    `SELECT s.*, (SELECT group_concat(day) FROM archive_seal_days WHERE seal_id = s.id) AS days
     FROM archive_seals s ORDER BY s.id`,
  );

  const seal = writeTransaction(db, (retention: number, month: number, at: number) => {
    const row = db
      .prepare<
        [number, number],
        { table_name: string; rollup_table: string; start_us: number; end_us: number }
      >(
        'SELECT table_name, rollup_table, start_us, end_us FROM sample_partitions WHERE retention = ? AND month = ?',
      )
      .get(retention, month);
    if (!row) return null;
    // One writer: the next id is known inside the transaction, and names the sealed table.
    const id = db.prepare('SELECT coalesce(max(id), 0) + 1 FROM archive_seals').pluck().get() as number;
    const name = `sealed_${id}_${row.table_name}`;
    db.prepare(
      `INSERT INTO archive_seals (id, retention, month, table_name, start_us, end_us, sealed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(id, retention, month, name, row.start_us, row.end_us, at);
    // A rename costs nothing whatever the table holds; rollups are derived, so they just go.
    db.exec(`ALTER TABLE ${row.table_name} RENAME TO ${name}; DROP TABLE IF EXISTS ${row.rollup_table}`);
    db.prepare('DELETE FROM sample_partitions WHERE retention = ? AND month = ?').run(retention, month);
    return id;
  });

  const drop = writeTransaction(db, (id: number) => {
    const table = sealedTable.get(id);
    if (table === undefined) return;
    db.exec(`DROP TABLE IF EXISTS ${table}`);
    db.prepare('DELETE FROM archive_seals WHERE id = ?').run(id);
  });

  return {
    classesOn(day) {
      settle();
      return live.classesOn(day);
    },
    countDay(day) {
      settle();
      return live.countDay(day);
    },
    readDay(source: DaySource, day: string) {
      if ('retention' in source) {
        settle();
        return live.readDay(source, day);
      }
      const table = sealedTable.get(source.sealId);
      if (table === undefined) throw new Error(`no sealed partition ${source.sealId}`);
      return readTableDay(db, table, day);
    },
    async seal({ retention, month }, at) {
      settle();
      const id = seal(retention, month, at);
      if (id === null) return null;
      // The ingest writer must create the partition anew for a late sample of the month.
      options.partitionsDropped();
      return toSealed(sealedList.all().find((r) => r.id === id)!);
    },
    async sealed() {
      return sealedList.all().map(toSealed);
    },
    async dayArchived(sealId, day) {
      db.prepare('INSERT OR IGNORE INTO archive_seal_days (seal_id, day) VALUES (?, ?)').run(sealId, day);
    },
    async dropSealed(sealId) {
      drop(sealId);
    },
  };
}
