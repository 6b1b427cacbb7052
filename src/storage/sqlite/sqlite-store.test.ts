import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../store.contract.js';
import { createSqliteStore } from './sqlite-store.js';
import { openDatabase } from './open-database.js';

describeStoreContract('sqlite', async () => createSqliteStore(':memory:'));

describe('sqlite store on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-sqlite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps data across reopening and marks every identity offline at start', async () => {
    const path = join(dir, 'reopen.db');
    const first = createSqliteStore(path);
    await first.identities.insert({
      identity: 'a',
      authType: 'token',
      credential: null,
      authExpire: null,
      locked: false,
      permission: {},
      state: {},
    });
    await first.identities.markSeen('a', { at: 1, online: true });
    await first.close();
    const second = createSqliteStore(path);
    expect(await second.identities.get('a')).toMatchObject({ identity: 'a', online: false, lastseen: 1 });
    await second.close();
  });

  it('refuses a database written by a newer schema instead of corrupting it', () => {
    const path = join(dir, 'newer.db');
    const db = openDatabase(path);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run();
    db.close();
    expect(() => openDatabase(path)).toThrow(/newer fleetgate/);
  });
});
