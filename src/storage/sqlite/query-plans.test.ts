import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityQuery, IdentityRecord, LifecycleStatus, OrderKey, Store } from '../../core/ports.js';
import { deriveStatus } from '../../core/identity-status.js';
import { createSqliteStore } from './sqlite-store.js';

/**
 * The SQLite adapter picks a plan per listing: walk the identities in ORDER BY order and probe
 * their tags, or start from the rows of the most selective tag and sort. Both must give exactly
 * the answer of the plain definition, which this suite computes in memory over a fleet where
 * some tags are rare (started from) and others common (walked).
 */
const NOW = 1_700_000_000_000_000;
const FLEET = 400;

interface Fixture {
  identity: string;
  id: number;
  lastseen: number | null;
  lastip: string | null;
  tags: { name: string; value: string }[];
  status: LifecycleStatus;
}

function fixture(n: number): Fixture {
  const tags = [
    { name: 'all', value: 'yes' },
    { name: 'parity', value: n % 2 === 0 ? 'even' : 'odd' },
    { name: 'decile', value: `d${n % 10}` },
  ];
  if (n % 97 === 0) tags.push({ name: 'rare', value: 'r' });
  // Two values of one name, so that a tag-driven plan meets the same identity twice.
  if (n % 3 === 0) tags.push({ name: 'multi', value: 'm1' }, { name: 'multi', value: 'm2' });
  const statuses: LifecycleStatus[] = ['provisioned', 'whitelisted', 'expired', 'reprovision', 'locked'];
  return {
    identity: `dev-${String((n * 7919) % 1000).padStart(3, '0')}-${n}`,
    id: n + 1,
    // Some never seen, and some sharing a lastseen, so that the id tie-break matters.
    lastseen: n % 11 === 0 ? null : NOW - ((n * 37) % 50) * 1000,
    lastip: n % 5 === 0 ? null : `10.0.${n % 7}.${n % 13}`,
    tags,
    status: statuses[n % 5]!,
  };
}

const fleet = Array.from({ length: FLEET }, (_, n) => fixture(n));

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null) return -1; // SQLite sorts NULL first
  if (b === null) return 1;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

function tagHolds(f: Fixture, name: string, test: (value: string) => boolean): boolean {
  return f.tags.some((t) => t.name === name && test(t.value));
}

const OPS = {
  gt: (a: string, b: string) => a > b,
  gte: (a: string, b: string) => a >= b,
  lt: (a: string, b: string) => a < b,
  lte: (a: string, b: string) => a <= b,
  eq: (a: string, b: string) => a === b,
  ne: (a: string, b: string) => a !== b,
};

function matches(f: Fixture, query: IdentityQuery): boolean {
  if (query.statuses && !query.statuses.includes(f.status)) return false;
  if (
    query.tagName !== undefined &&
    !tagHolds(f, query.tagName, (v) => query.tagValue === undefined || v === query.tagValue)
  )
    return false;
  return (query.tagCriteria ?? []).every((c) => tagHolds(f, c.name, (v) => OPS[c.operator](v, c.value)));
}

function expected(query: IdentityQuery, order: OrderKey[], limit: number, offset: number): string[] {
  const key = order[0]!;
  return fleet
    .filter((f) => matches(f, query))
    .sort((a, b) => {
      const field = key.field as 'identity' | 'lastseen' | 'lastip';
      const byKey = compare(a[field], b[field]) || compare(a.id, b.id);
      return key.descending ? -byKey : byKey;
    })
    .slice(offset, offset + limit)
    .map((f) => f.identity);
}

const q = (query: Omit<IdentityQuery, 'now'>): IdentityQuery => ({ now: NOW, ...query });

const QUERIES: [string, IdentityQuery][] = [
  ['a rare tag', q({ tagCriteria: [{ name: 'rare', operator: 'eq', value: 'r' }] })],
  ['a common tag', q({ tagName: 'all' })],
  ['half of the fleet', q({ tagName: 'parity', tagValue: 'even' })],
  [
    'a range',
    q({
      tagCriteria: [
        { name: 'decile', operator: 'gte', value: 'd3' },
        { name: 'decile', operator: 'lt', value: 'd5' },
      ],
    }),
  ],
  [
    'rare and common',
    q({
      tagCriteria: [
        { name: 'parity', operator: 'eq', value: 'odd' },
        { name: 'rare', operator: 'eq', value: 'r' },
      ],
    }),
  ],
  ['a tag with two values each', q({ tagName: 'multi' })],
  ['ne', q({ tagCriteria: [{ name: 'multi', operator: 'ne', value: 'm1' }] })],
  [
    'a tag and a status',
    q({
      statuses: ['provisioned', 'locked'],
      tagCriteria: [{ name: 'decile', operator: 'eq', value: 'd4' }],
    }),
  ],
  ['no identity', q({ tagCriteria: [{ name: 'rare', operator: 'eq', value: 'none' }] })],
];

const ORDERS: OrderKey[][] = [
  [{ field: 'lastseen', descending: true }],
  [{ field: 'lastseen', descending: false }],
  [{ field: 'identity', descending: false }],
  [{ field: 'lastip', descending: true }],
];

describe('sqlite listing and counting plans', () => {
  let store: Store;

  beforeAll(async () => {
    store = createSqliteStore(':memory:');
    const authFor = (status: LifecycleStatus) => ({
      credential: status === 'provisioned' || status === 'reprovision' ? 'sha256:k' : null,
      authExpire:
        status === 'expired' || status === 'reprovision'
          ? NOW - 1
          : status === 'provisioned'
            ? NOW + 1
            : null,
      locked: status === 'locked',
    });
    for (const f of fleet) {
      const { credential, ...auth } = authFor(f.status);
      await store.identities.insert({
        identity: f.identity,
        authType: 'password',
        credential: credential && `${credential}${f.id}`,
        ...auth,
        permission: {},
        createdAt: 1,
      });
      await store.identities.addTags(f.identity, f.tags, false);
      if (f.lastseen !== null)
        await store.identities.markSeen(f.identity, { at: f.lastseen, ...(f.lastip && { ip: f.lastip }) });
    }
    // Identities never seen keep a NULL lastip as well.
    for (const f of fleet) if (f.lastseen === null) f.lastip = null;
  });
  afterAll(async () => {
    await store.close();
  });

  it('derives the fixture statuses as the core does', async () => {
    const records = await store.identities.list(q({}), [{ field: 'identity', descending: false }], FLEET, 0);
    const byName = new Map(fleet.map((f) => [f.identity, f]));
    for (const r of records) expect(deriveStatus(r, NOW)).toBe(byName.get(r.identity)!.status);
  });

  for (const [name, query] of QUERIES) {
    it(`lists ${name} exactly, whatever the plan, order and page`, async () => {
      for (const order of ORDERS) {
        for (const [limit, offset] of [
          [3, 0],
          [10, 4],
          [400, 0],
        ] as const) {
          const got = (await store.identities.list(query, order, limit, offset)).map(
            (r: IdentityRecord) => r.identity,
          );
          expect(got, `${JSON.stringify(order)} limit ${limit} offset ${offset}`).toEqual(
            expected(query, order, limit, offset),
          );
        }
      }
    });

    it(`counts ${name} exactly`, async () => {
      expect(await store.identities.count(query)).toBe(fleet.filter((f) => matches(f, query)).length);
    });
  }

  it('counts several statuses as the sum of each', async () => {
    const statuses: LifecycleStatus[] = ['whitelisted', 'expired', 'locked'];
    const count = await store.identities.count(q({ statuses }));
    expect(count).toBe(fleet.filter((f) => statuses.includes(f.status)).length);
    let sum = 0;
    for (const status of statuses) sum += await store.identities.count(q({ statuses: [status] }));
    expect(count).toBe(sum);
  });

  it('carries every tag of each listed identity, not only the matching one', async () => {
    const [first] = await store.identities.list(
      q({ tagCriteria: [{ name: 'rare', operator: 'eq', value: 'r' }] }),
      [{ field: 'identity', descending: false }],
      1,
      0,
    );
    const source = fleet.find((f) => f.identity === first!.identity)!;
    expect(first!.tags).toEqual(
      [...source.tags].sort((a, b) => compare(a.name, b.name) || compare(a.value, b.value)),
    );
  });
});
