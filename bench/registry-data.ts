import Database from 'better-sqlite3';

/** The synthetic fleet: identity names, auth mix and tags, all derived from the index. */
export const TYPES = ['sensor', 'gateway', 'meter', 'camera', 'tracker'] as const;
export const SITES = 100;
export const FIRMWARES = 20;

export const identityName = (i: number) => `dev-${String(i).padStart(6, '0')}`;
export const siteValue = (n: number) => `site-${String(n).padStart(3, '0')}`;
export const fwValue = (n: number) => `fw-${String(n).padStart(2, '0')}`;

/** A 32-bit integer hash (splitmix-like), so tags are independent of each other and of i. */
function mix(i: number, salt: number): number {
  let x = (i ^ Math.imul(salt, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export type SeedStatus = 'locked' | 'provisioned' | 'expired' | 'whitelisted';

/** 5 % locked, 60 % provisioned (token), 10 % expired provisioning window, 25 % whitelisted. */
export function statusOf(i: number): SeedStatus {
  const k = i % 20;
  if (k === 0) return 'locked';
  if (k <= 12) return 'provisioned';
  if (k <= 14) return 'expired';
  return 'whitelisted';
}

const PAST_MICROS = 1_600_000_000_000_000; // September 2020

export function addIdentityParams(i: number): Record<string, unknown> {
  const identity = identityName(i);
  switch (statusOf(i)) {
    case 'locked':
      return { identity, locked: true };
    case 'provisioned':
      return { identity, auth: { type: 'token', key: `bench-token-${identity}-${mix(i, 7).toString(36)}` } };
    case 'expired':
      return { identity, auth: { expire: PAST_MICROS } };
    case 'whitelisted':
      return { identity };
  }
}

export function tagsOf(i: number): { name: string; value: string }[] {
  return [
    { name: 'site', value: siteValue(mix(i, 1) % SITES) },
    { name: 'type', value: TYPES[mix(i, 2) % TYPES.length]! },
    { name: 'fw', value: fwValue(mix(i, 3) % FIRMWARES) },
  ];
}

/**
 * There is no API to set lastseen (device connectivity comes later), so while the gateway is
 * stopped the bench writes it straight into the SQLite file: 95 % of the identities were seen at a
 * pseudo-random time in the last 30 days (µs) from some lastip, 5 % never (both NULL).
 */
export function writeLastseen(dbFile: string, nowMicros: number): number {
  const db = new Database(dbFile);
  try {
    const window = 30 * 24 * 3600 * 1_000_000;
    const update = db.prepare(`UPDATE identities SET
        lastseen = CASE WHEN id % 20 = 7 THEN NULL ELSE @now - ((id * 2654435761) % @window) END,
        lastip = CASE WHEN id % 20 = 7 THEN NULL
          ELSE '10.' || (id % 250) || '.' || ((id / 250) % 250) || '.' || (id % 7 + 1) END`);
    const changes = update.run({ now: nowMicros, window }).changes;
    db.pragma('wal_checkpoint(TRUNCATE)');
    return changes;
  } finally {
    db.close();
  }
}
