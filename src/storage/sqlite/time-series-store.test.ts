import { describe, expect, it } from 'vitest';
import type { RawQuery, RawSample } from '../../core/time-series-ports.js';
import { createSqliteStore } from './sqlite-store.js';
import { newIdentity } from '../contract-fixtures.js';
import { writeDurably } from '../../core/write-durably.js';

/** 2026-11-30T23:00Z: samples fall on both sides of a month boundary. */
const START = Date.UTC(2026, 10, 30, 23) * 1000;
const SECOND = 1_000_000;

function expected(all: RawSample[], query: RawQuery): RawSample[] {
  const sign = query.descending ? -1 : 1;
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return all
    .filter(
      (s) =>
        query.identities.includes(s.identity) &&
        query.signals.includes(s.signal) &&
        s.timestamp >= query.from &&
        s.timestamp < query.to,
    )
    .sort(
      (a, b) =>
        sign *
        ((query.sortBy === 'server' ? a.receivedAt - b.receivedAt : 0) ||
          a.timestamp - b.timestamp ||
          cmp(a.identity, b.identity) ||
          cmp(a.signal, b.signal)),
    )
    .slice(query.offset, query.offset + query.limit);
}

describe('raw samples of the SQLite time-series store', () => {
  it('come merged in order from every partition, per series or, for many series, in one scan', async () => {
    const store = createSqliteStore(':memory:');
    const identities = Array.from({ length: 80 }, (_, i) => `d${String(i).padStart(2, '0')}`);
    const signals = ['a', 'b', 'c'];
    const all: RawSample[] = [];
    for (const [n, identity] of identities.entries()) {
      await store.identities.insert(newIdentity(identity, { createdAt: 1 }));
      const receivedAt = START + 4 * 3600 * SECOND - n;
      const samples = signals.flatMap((signal, s) =>
        Array.from({ length: 6 }, (_, k) => ({
          signal,
          resource: signal,
          retention: s === 2 ? 3 : 12,
          timestamp: START + ((k * 37 + n * 11 + s * 5) % 120) * 60 * SECOND,
          value: n * 100 + s * 10 + k,
        })),
      );
      await writeDurably(store.ingest, { identity, samples, state: [], seen: { at: receivedAt, ip: null } });
      for (const sample of samples)
        all.push({
          identity,
          signal: sample.signal,
          timestamp: sample.timestamp,
          receivedAt,
          value: sample.value,
        });
    }
    const base = { from: START, to: START + 2 * 3600 * SECOND, limit: 50, offset: 0 };
    const queries: RawQuery[] = [
      { ...base, identities: ['d07', 'd03'], signals: ['a', 'c'], sortBy: 'report', descending: true },
      {
        ...base,
        identities: ['d07', 'd03'],
        signals: ['a', 'c'],
        sortBy: 'report',
        descending: false,
        offset: 7,
      },
      { ...base, identities, signals, sortBy: 'report', descending: true, offset: 100 },
      { ...base, identities, signals, sortBy: 'server', descending: false, limit: 400 },
      {
        ...base,
        identities: identities.slice(0, 40),
        signals,
        sortBy: 'server',
        descending: true,
        from: START + 3600 * SECOND,
      },
    ];
    for (const query of queries) expect(await store.series.raw(query)).toEqual(expected(all, query));
    await store.close();
  });
});
