import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { DeviceWrite, Sample } from '../../core/device-ports.js';
import type { ResourceValue } from '../../core/schemas/common.js';
import { createSqliteStore } from './sqlite-store.js';
import { newIdentity } from '../contract-fixtures.js';
import { writeDurably } from '../../core/write-durably.js';

const MINUTE = 60_000_000;
/** 2026-11-30T22:00Z: two hours before a month boundary, so data spans two partitions. */
const START = Date.UTC(2026, 10, 30, 22) * 1000;

/** A deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function openStore() {
  const file = join(mkdtempSync(join(tmpdir(), 'fleetgate-series-')), 'db');
  const store = createSqliteStore(file);
  for (const identity of ['a', 'b', 'c'])
    await store.identities.insert(newIdentity(identity, { createdAt: 1 }));
  const db = () => new Database(file, { readonly: true });
  return { store, db };
}

interface Expected {
  value: ResourceValue;
  receivedAt: number;
}

type Row = { retention: number; identity: string; signal: string; width: number; bucket: number } & Record<
  string,
  unknown
>;

/** What the rollups must hold, computed from the final samples of every series. */
function bruteForce(samples: Map<string, Expected>, widths: number[]): Row[] {
  const rows = new Map<string, Row>();
  for (const [key, { value }] of samples) {
    const [retention, identity, signal, ts] = key.split('|') as [string, string, string, string];
    const timestamp = Number(ts);
    const numeric = typeof value === 'boolean' ? (value ? 1 : 0) : typeof value === 'number' ? value : null;
    for (const width of widths) {
      const bucket = timestamp - (timestamp % (width * 1e6));
      const id = `${retention}|${identity}|${signal}|${width}|${bucket}`;
      let row = rows.get(id);
      if (!row)
        rows.set(
          id,
          (row = {
            retention: Number(retention),
            identity,
            signal,
            width,
            bucket,
            count: 0,
            sum: null,
            min: null,
            max: null,
          }),
        );
      row.count = (row.count as number) + 1;
      if (numeric === null) continue;
      row.sum = row.sum === null ? numeric : (row.sum as number) + numeric;
      row.min = row.min === null ? numeric : Math.min(row.min as number, numeric);
      row.max = row.max === null ? numeric : Math.max(row.max as number, numeric);
    }
  }
  return [...rows.values()];
}

function storedRollups(db: Database.Database): Row[] {
  const partitions = db.prepare('SELECT retention, rollup_table FROM sample_partitions').all() as {
    retention: number;
    rollup_table: string;
  }[];
  return partitions.flatMap(
    ({ retention, rollup_table }) =>
      db.prepare(`SELECT ${retention} AS retention, * FROM ${rollup_table}`).all() as Row[],
  );
}

/** Sorted, with sums rounded: floating-point addition depends on the order of the terms. */
const order = (rows: Row[]) =>
  rows
    .map((row): Row => ({
      ...row,
      sum: row.sum === null ? null : Math.round((row.sum as number) * 1e6) / 1e6,
    }))
    .sort((x, y) =>
      `${x.retention}|${x.identity}|${x.signal}|${x.width}|${x.bucket}`.localeCompare(
        `${y.retention}|${y.identity}|${y.signal}|${y.width}|${y.bucket}`,
      ),
    );

describe('rollups kept by the ingest store', () => {
  it('equal a brute-force computation over random, out-of-order and repeated data', async () => {
    const next = random(42);
    const { store, db } = await openStore();
    const expected = new Map<string, Expected>();
    let receivedAt = START + 10 * 3_600_000_000;
    for (let round = 0; round < 30; round++) {
      // Several writes per round share one commit; each holds samples anywhere in four hours.
      const writes: DeviceWrite[] = [];
      for (let w = 0; w < 1 + Math.floor(next() * 6); w++) {
        const identity = ['a', 'b', 'c'][Math.floor(next() * 3)]!;
        const samples: Sample[] = [];
        receivedAt += 1000;
        for (let s = 0; s < 1 + Math.floor(next() * 40); s++) {
          const signal = ['temp', 'on', 'name'][Math.floor(next() * 3)]!;
          // Few distinct times, so that samples often replace stored ones or repeat in one write.
          const timestamp = START + Math.floor(next() * 240) * MINUTE + Math.floor(next() * 3) * 7_000_000;
          const value: ResourceValue =
            signal === 'temp'
              ? Math.round(next() * 2000 - 1000) / 10
              : signal === 'on'
                ? next() < 0.5
                : `v${Math.floor(next() * 9)}`;
          const retention = signal === 'name' ? 3 : 12;
          samples.push({ signal, resource: signal, retention, timestamp, value });
          expected.set(`${retention}|${identity}|${signal}|${timestamp}`, { value, receivedAt });
        }
        writes.push({ identity, samples, state: [], seen: { at: receivedAt, ip: null } });
      }
      expect(await Promise.all(writes.map((w) => writeDurably(store.ingest, w)))).toEqual(
        writes.map(() => true),
      );
    }
    await store.close();
    const read = db();
    try {
      expect(order(storedRollups(read))).toEqual(order(bruteForce(expected, [60, 3600])));
      expect(read.prepare('SELECT count(*) FROM sample_partitions').pluck().get()).toBe(4);
    } finally {
      read.close();
    }
  });

  it('keep the newest sample of each signal, by reported time, in the signals table', async () => {
    const { store, db } = await openStore();
    const write = (samples: [string, number, ResourceValue][], at: number): DeviceWrite => ({
      identity: 'a',
      samples: samples.map(([signal, timestamp, value]) => ({
        signal,
        resource: signal,
        retention: 12,
        timestamp,
        value,
      })),
      state: [],
      seen: { at, ip: null },
    });
    await writeDurably(
      store.ingest,
      write(
        [
          ['temp', START + 5, 1],
          ['temp', START + 9, 2],
          ['temp', START + 7, 3],
        ],
        START + 100,
      ),
    );
    // Late data does not replace the newest value; a value at the same time does.
    await writeDurably(
      store.ingest,
      write(
        [
          ['temp', START + 1, 4],
          ['on', START, true],
        ],
        START + 200,
      ),
    );
    await writeDurably(store.ingest, write([['on', START, false]], START + 300));
    await writeDurably(store.ingest, {
      identity: 'a',
      samples: [{ signal: '001', resource: 'data_in', retention: 12, timestamp: START, value: 12.5 }],
      signals: [
        { signal: '001', resource: 'data_in', metadata: '{"u":"C"}' },
        { signal: '002', resource: 'data_in', metadata: null },
      ],
      state: [],
      seen: { at: START + 400, ip: null },
    });
    await store.close();
    const read = db();
    try {
      expect(read.prepare('SELECT * FROM signals ORDER BY signal').all()).toEqual([
        {
          identity: 'a',
          signal: '001',
          resource: 'data_in',
          metadata: '{"u":"C"}',
          created_at: START + 400,
          last_value: 12.5,
          last_update: START,
          last_insert: START + 400,
        },
        {
          identity: 'a',
          signal: '002',
          resource: 'data_in',
          metadata: null,
          created_at: START + 400,
          last_value: null,
          last_update: null,
          last_insert: null,
        },
        {
          identity: 'a',
          signal: 'on',
          resource: 'on',
          metadata: null,
          created_at: START + 200,
          last_value: 0,
          last_update: START,
          last_insert: START + 300,
        },
        {
          identity: 'a',
          signal: 'temp',
          resource: 'temp',
          metadata: null,
          created_at: START + 100,
          last_value: 2,
          last_update: START + 9,
          last_insert: START + 100,
        },
      ]);
    } finally {
      read.close();
    }
  });
});
