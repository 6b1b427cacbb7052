/**
 * What a group commit of MQTT ingest costs SQLite under different sample-table layouts
 * (`node --import tsx bench/sample-layouts.ts`; BENCHMARKS.md, "Where an ingest commit goes").
 *
 * One commit is what the device bench's commits look like: 800 one-sample writes from 50 devices,
 * 16 per device, in time order per device. After WARM commits (1.2 million rows) the WAL is
 * emptied, MEASURED more commits are timed, and the WAL's size tells how many pages they wrote.
 * Plain SQLite, no fleetgate code: the layouts are the question, not the adapter.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const DEVICES = 50;
const PER_COMMIT = 800;
const WARM = Number(process.env.WARM ?? 1500);
const MEASURED = 200;
const PAGE = 4096;
const FRAME_HEADER = 24;

interface Layout {
  name: string;
  ddl: string[];
  /** Key order of the table: series first (identity, signal, time) or time first. */
  timeFirst: boolean;
}

const LAYOUTS: Layout[] = [
  {
    name: 'series first (fleetgate today)',
    timeFirst: false,
    ddl: [
      'CREATE TABLE s (identity TEXT, signal TEXT, t INTEGER, v REAL, r INTEGER, PRIMARY KEY (identity, signal, t)) WITHOUT ROWID',
    ],
  },
  {
    name: 'time first',
    timeFirst: true,
    ddl: [
      'CREATE TABLE s (t INTEGER, identity TEXT, signal TEXT, v REAL, r INTEGER, PRIMARY KEY (t, identity, signal)) WITHOUT ROWID',
    ],
  },
  {
    name: 'time first + series index',
    timeFirst: true,
    ddl: [
      'CREATE TABLE s (t INTEGER, identity TEXT, signal TEXT, v REAL, r INTEGER, PRIMARY KEY (t, identity, signal)) WITHOUT ROWID',
      'CREATE INDEX s_series ON s (identity, signal, t)',
    ],
  },
  {
    name: 'rowid + series index',
    timeFirst: false,
    ddl: [
      'CREATE TABLE s (identity TEXT, signal TEXT, t INTEGER, v REAL, r INTEGER)',
      'CREATE UNIQUE INDEX s_series ON s (identity, signal, t)',
    ],
  },
];

type Row = [identity: string, signal: string, t: number, value: number, receivedAt: number];

function measure(layout: Layout): { framesPerCommit: number; microsPerSample: number } {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-sample-layouts-'));
  const db = new Database(join(dir, 'db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma('temp_store = MEMORY');
    for (const statement of layout.ddl) db.exec(statement);
    const insert = layout.timeFirst
      ? db.prepare('INSERT OR REPLACE INTO s (t, identity, signal, v, r) VALUES (?, ?, ?, ?, ?)')
      : db.prepare('INSERT OR REPLACE INTO s (identity, signal, t, v, r) VALUES (?, ?, ?, ?, ?)');
    let t = 1_700_000_000_000_000;
    const commit = db.transaction(() => {
      const rows: Row[] = [];
      for (let k = 0; k < PER_COMMIT; k++)
        rows.push([`dev${String(k % DEVICES).padStart(3, '0')}`, 'temp', (t += 10), 23.5, t]);
      // In key order, as fleetgate's series writer inserts them.
      if (!layout.timeFirst) rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2]));
      for (const [identity, signal, at, value, receivedAt] of rows) {
        if (layout.timeFirst) insert.run(at, identity, signal, value, receivedAt);
        else insert.run(identity, signal, at, value, receivedAt);
      }
    });
    for (let i = 0; i < WARM; i++) {
      commit();
      if (i % 100 === 99) db.pragma('wal_checkpoint(TRUNCATE)');
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    const before = process.cpuUsage();
    for (let i = 0; i < MEASURED; i++) commit();
    const cpu = process.cpuUsage(before);
    const frames = statSync(join(dir, 'db-wal')).size / (PAGE + FRAME_HEADER);
    return {
      framesPerCommit: frames / MEASURED,
      microsPerSample: (cpu.user + cpu.system) / (MEASURED * PER_COMMIT),
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`| Layout | WAL frames per commit | CPU µs per sample |`);
console.log(`|---|---:|---:|`);
for (const layout of LAYOUTS) {
  const { framesPerCommit, microsPerSample } = measure(layout);
  console.log(`| ${layout.name} | ${framesPerCommit.toFixed(1)} | ${microsPerSample.toFixed(2)} |`);
}
