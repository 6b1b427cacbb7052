import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../store.contract.js';
import { createSqliteStore } from './sqlite-store.js';
import { migrate, openDatabase } from './open-database.js';
import { newIdentity } from '../contract-fixtures.js';

describeStoreContract('sqlite', async () => createSqliteStore(':memory:'));

describe('sqlite store on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-sqlite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps data across reopening, marks every identity offline at start and lists those it was for until forgotten', async () => {
    const path = join(dir, 'reopen.db');
    const first = createSqliteStore(path);
    for (const identity of ['a', 'b', 'c']) await first.identities.insert(newIdentity(identity));
    await first.identities.markSeen('a', { at: 1, ip: '10.0.0.1', online: true });
    await first.identities.markSeen('c', { at: 2, online: true });
    await first.identities.markSeen('b', { at: 3, online: true });
    await first.identities.markSeen('b', { at: 4, online: false });
    await first.close();
    const second = createSqliteStore(path);
    expect(await second.identities.get('a')).toMatchObject({ identity: 'a', online: false, lastseen: 1 });
    const left = [
      { identity: 'a', ip: '10.0.0.1' },
      { identity: 'c', ip: null },
    ];
    expect(await second.identities.leftOnline()).toEqual(left);
    await second.close();
    // Until forgotten (once their disconnects are raised), a start that failed before leaves them.
    const third = createSqliteStore(path);
    expect(await third.identities.leftOnline()).toEqual(left);
    await third.identities.forgetLeftOnline(['a']);
    await third.identities.remove(['c']);
    expect(await third.identities.leftOnline()).toEqual([]);
    await third.close();
  });

  it('refuses a database written by a newer schema instead of corrupting it', () => {
    const path = join(dir, 'newer.db');
    const db = openDatabase(path);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run();
    db.close();
    expect(() => openDatabase(path)).toThrow(/newer fleetgate/);
  });

  it('applies a migration numbered below the newest applied one, as when branches merge', () => {
    const db = new Database(':memory:');
    const table = (version: number) => ({
      version,
      name: `t${version}`,
      sql: `CREATE TABLE t${version} (x)`,
    });
    migrate(db, [table(1), table(4)]);
    migrate(db, [table(1), table(3), table(4)]);
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions).toEqual([1, 3, 4]);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 't3'").pluck().get()).toBe(1);
    db.close();
  });

  it('keeps device metrics across reopening', async () => {
    const path = join(dir, 'metrics.db');
    const rollup = { minute: 1_700_000_040, metric: 'deleted' as const, identity: 'a', reason: null };
    const first = createSqliteStore(path);
    await first.deviceMetrics.append([{ ...rollup, count: 2, sum: 2, min: 1, max: 1 }]);
    await first.close();
    const second = createSqliteStore(path);
    await second.deviceMetrics.append([{ ...rollup, count: 1, sum: 1, min: 1, max: 1 }]);
    const query = { metric: 'deleted' as const, window: 60 as const, fn: 'count' as const, distinct: false };
    expect(
      await second.deviceMetrics.query({
        ...query,
        byReason: false,
        from: 1_700_000_000,
        to: 1_700_000_100,
        limit: 10,
        offset: 0,
      }),
    ).toEqual([{ time: 1_700_000_040, value: 3, reason: null }]);
    await second.close();
  });
});

describe('sqlite group commit', () => {
  const identity = (name: string, credential: string | null = null) => ({
    identity: name,
    authType: 'token' as const,
    credential,
    authExpire: null,
    locked: false,
    permission: {},
    createdAt: 1,
  });

  it('commits writes of the same tick together, failing only the one at fault', async () => {
    const store = createSqliteStore(':memory:');
    const outcomes = await Promise.allSettled([
      store.identities.insert(identity('a', 'sha256:ta')),
      store.identities.insert(identity('b')),
      store.identities.insert(identity('a')),
      store.identities.insert(identity('c', 'sha256:ta')),
      store.identities.addTags('b', [{ name: 'site', value: 's1' }], false),
      store.identities.addTags('nobody', [{ name: 'site', value: 's1' }], false),
      store.identities.insert(identity('d')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect((outcomes[3] as PromiseRejectedResult).reason).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect((outcomes[5] as PromiseFulfilledResult<boolean>).value).toBe(false);
    expect([...(await store.identities.existing(['a', 'b', 'c', 'd']))].sort()).toEqual(['a', 'b', 'd']);
    expect(await store.identities.tagValues('b', 'site')).toEqual(['s1']);
    // The rejected duplicate left nothing behind: 'a' keeps its own credential.
    expect((await store.identities.get('a'))?.credential).toBe('sha256:ta');
    await store.close();
  });

  it('commits the writes still queued when the store closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetgate-group-'));
    const path = join(dir, 'group.db');
    const store = createSqliteStore(path);
    const pending = store.identities.insert(identity('queued'));
    await store.close();
    await pending;
    const reopened = createSqliteStore(path);
    expect(await reopened.identities.existing(['queued'])).toEqual(new Set(['queued']));
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers credential lookups from the transaction of the writes queued before them', async () => {
    const store = createSqliteStore(':memory:');
    const [, found, missing] = await Promise.all([
      store.identities.insert(identity('e', 'sha256:te')),
      store.devices.byTokenHash('sha256:te'),
      store.devices.byTokenHash('sha256:nobody'),
    ]);
    expect(found).toMatchObject({ identity: 'e', authType: 'token' });
    expect(missing).toBeUndefined();
    await store.close();
  });

  it('answers a lookup with nothing queued before the next turn of the event loop', async () => {
    const store = createSqliteStore(':memory:');
    await store.identities.insert(identity('e', 'sha256:te'));
    const nextTurn = new Promise((resolve) => setImmediate(() => resolve('next turn')));
    expect(await Promise.race([store.devices.byTokenHash('sha256:te'), nextTurn])).toMatchObject({
      identity: 'e',
    });
    await store.close();
  });

  it('keeps a lone failing write from affecting the next one', async () => {
    const store = createSqliteStore(':memory:');
    await store.identities.insert(identity('a'));
    await expect(store.identities.insert(identity('a'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await store.identities.insert(identity('b'));
    expect(await store.identities.count({ now: 0 })).toBe(2);
    await store.close();
  });
});

describe('sqlite resource definitions', () => {
  it('are read from memory, refreshed by every change and cannot be changed by a reader', async () => {
    const store = createSqliteStore(':memory:');
    const definition = { format: 'number' as const, settable: true, sync: false, retention: '12' as const };
    expect(await store.resources.list()).toEqual({});
    await store.resources.add('temp', definition);
    expect(await store.resources.list()).toEqual({ temp: definition });
    await store.resources.update('temp', () => ({ definition: { ...definition, unit: 'C' } }));
    const listed = await store.resources.list();
    expect(listed.temp?.unit).toBe('C');
    expect(() => {
      (listed.temp as { unit?: string }).unit = 'F';
    }).toThrow(TypeError);
    await store.resources.remove('temp');
    expect(await store.resources.list()).toEqual({});
    await store.close();
  });
});

describe('sqlite background checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-wal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keep every write and leave no WAL behind once the store is closed', async () => {
    const path = join(dir, 'wal.db');
    const store = createSqliteStore(path);
    for (let chunk = 0; chunk < 20; chunk++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          store.identities.insert({
            identity: `dev-${chunk}-${i}`,
            authType: 'token',
            credential: `sha256:${chunk}-${i}`,
            authExpire: null,
            locked: false,
            permission: {},
            createdAt: 1,
          }),
        ),
      );
    }
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = createSqliteStore(path);
    expect(await reopened.identities.count({ now: 0 })).toBe(2000);
    await reopened.close();
  });
});
