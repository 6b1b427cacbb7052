/**
 * What MQTT ingest costs the SQLite ingest store, without the broker
 * (`node --import tsx bench/ingest-commits.ts`; BENCHMARKS.md, "Tried and dropped: appended samples").
 *
 * Each commit is what the device bench's commits look like: one-sample writes from 50 devices,
 * PER_DEVICE each (the bench averages about 24), server-stamped in time order. After WARM commits
 * the WAL is emptied; MEASURED more commits are timed, together with moving whatever they left
 * staged (`settle`), so the figure is the whole cost of a sample. The WAL then tells how many pages
 * the commits wrote, and `dbstat` whose pages they were.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteIngestStore } from '../src/storage/sqlite/ingest-store.js';
import { openDatabase } from '../src/storage/sqlite/open-database.js';
import { createPresenceBuffer } from '../src/storage/sqlite/presence-buffer.js';
import { writeDurably } from '../src/core/write-durably.js';

const DEVICES = 50;
const PER_DEVICE = Number(process.env.PER_DEVICE ?? 24);
const WARM = Number(process.env.WARM ?? 1500);
const MEASURED = 200;
const PAGE = 4096;
const FRAME = 24 + PAGE;

const dir = mkdtempSync(join(tmpdir(), 'fleetgate-ingest-commits-'));
const file = join(dir, 'db');
const db = openDatabase(file);
db.pragma('wal_autocheckpoint = 0');
const addIdentity = db.prepare(
  "INSERT INTO identities (identity, auth_type, created_at) VALUES (?, 'token', 1)",
);
for (let d = 0; d < DEVICES; d++) addIdentity.run(`dev-${d}`);
const presence = createPresenceBuffer(db);
const ingest = createSqliteIngestStore(db, presence);

let t = Date.UTC(2026, 10, 26) * 1000;
async function commit(): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (let k = 0; k < PER_DEVICE; k++) {
    for (let d = 0; d < DEVICES; d++) {
      t += 10;
      const value = 20 + (k % 7);
      writes.push(
        writeDurably(ingest, {
          identity: `dev-${d}`,
          samples: [{ signal: 'temp', resource: 'temp', retention: 12, timestamp: t, value }],
          state: [{ resource: 'temp', set: value, reported: value, timestamp: t }],
          seen: { at: t, ip: '127.0.0.1' },
        }),
      );
    }
  }
  await Promise.all(writes);
}

for (let i = 0; i < WARM; i++) {
  await commit();
  if (i % 100 === 99) db.pragma('wal_checkpoint(TRUNCATE)');
}
ingest.settle();
db.pragma('wal_checkpoint(TRUNCATE)');
const before = process.cpuUsage();
for (let i = 0; i < MEASURED; i++) await commit();
ingest.settle();
const cpu = process.cpuUsage(before);

const wal = readFileSync(`${file}-wal`);
const owner = new Map<number, string>();
for (const row of db.prepare('SELECT name, pageno, pagetype FROM dbstat').all() as {
  name: string;
  pageno: number;
  pagetype: string;
}[])
  owner.set(row.pageno, `${row.name} (${row.pagetype})`);
const byTable = new Map<string, number>();
for (let at = 32; at + FRAME <= wal.length; at += FRAME) {
  const table = owner.get(wal.readUInt32BE(at)) ?? 'free pages';
  byTable.set(table, (byTable.get(table) ?? 0) + 1);
}
const samples = MEASURED * DEVICES * PER_DEVICE;
console.log(
  `${DEVICES} devices × ${PER_DEVICE} samples per commit: ${((cpu.user + cpu.system) / samples).toFixed(2)} µs CPU per sample, ` +
    `${((wal.length - 32) / FRAME / MEASURED).toFixed(1)} WAL frames per commit`,
);
for (const [table, frames] of [...byTable].sort((a, b) => b[1] - a[1]))
  console.log(`  ${(frames / MEASURED).toFixed(1)} ${table}`);
presence.close();
db.close();
rmSync(dir, { recursive: true, force: true });
