import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/storage/sqlite/open-database.js';
import { createSqliteIdentityStore } from '../../src/storage/sqlite/identity-store.js';
import { hashSecret } from '../../src/core/credentials.js';
const dir = mkdtempSync(join(tmpdir(), 'fgs-'));
const db = openDatabase(join(dir, 'x.db'));
for (const p of (process.env.PRAGMAS ?? '').split(';').filter(Boolean)) console.log(p, db.pragma(p));
const store = createSqliteIdentityStore(db);
const N = 20000;
const lat: number[] = [];
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const s = performance.now();
  await store.insert({ identity: `dev-${i}`, authType: 'token', credential: i % 2 ? hashSecret('k' + i) : null, authExpire: null, locked: false, permission: {}, state: {} });
  lat.push(performance.now() - s);
}
const el = performance.now() - t0;
lat.sort((a, b) => a - b);
console.log('insert/s', (N / el * 1000).toFixed(0), 'median', lat[N/2].toFixed(3), 'p95', lat[Math.floor(N*0.95)].toFixed(3), 'p99', lat[Math.floor(N*0.99)].toFixed(3), 'max', lat[N-1].toFixed(1), 'n>1ms', lat.filter(x=>x>1).length, 'sum>1ms', lat.filter(x=>x>1).reduce((a,b)=>a+b,0).toFixed(0));
void Database;
