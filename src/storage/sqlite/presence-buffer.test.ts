import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IdentityStore } from '../../core/ports.js';
import { newIdentity } from '../contract-fixtures.js';
import { createSqliteIdentityStore } from './identity-store.js';
import { openDatabase } from './open-database.js';
import { createPresenceBuffer, type PresenceBuffer } from './presence-buffer.js';

interface StoredPresence {
  lastseen: number | null;
  lastip: string | null;
  online: number;
}

describe('presence written behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-presence-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let file: string;
  let db: Database.Database;
  let presence: PresenceBuffer;
  let identities: IdentityStore;

  /** What another process reading the file sees: only what was written. */
  function stored(identity: string): StoredPresence | undefined {
    const reader = new Database(file, { readonly: true });
    try {
      return reader
        .prepare('SELECT lastseen, lastip, online FROM identities WHERE identity = ?')
        .get(identity) as StoredPresence | undefined;
    } finally {
      reader.close();
    }
  }

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    file = join(dir, `${Math.random().toString(36).slice(2)}.db`);
    db = openDatabase(file);
    presence = createPresenceBuffer(db);
    identities = createSqliteIdentityStore(db, undefined, presence);
    for (const identity of ['a', 'b']) await identities.insert(newIdentity(identity));
  });
  afterEach(() => {
    presence.close();
    db.close();
    vi.useRealTimers();
  });

  it('shows a contact to reads at once and stores it within half a second', async () => {
    await identities.markSeen('a', { at: 1_000, ip: '10.0.0.1', online: true });
    expect(stored('a')).toEqual({ lastseen: null, lastip: null, online: 0 });
    expect(await identities.get('a')).toMatchObject({ lastseen: 1_000, lastip: '10.0.0.1', online: true });
    vi.advanceTimersByTime(500);
    expect(stored('a')).toEqual({ lastseen: 1_000, lastip: '10.0.0.1', online: 1 });
  });

  it('flushes before lists and counts, which filter and sort on presence', async () => {
    await identities.markSeen('b', { at: 2_000, ip: '10.0.0.2', online: true });
    expect((await identities.list({ now: 0, online: true }, [], 10, 0)).map((r) => r.identity)).toEqual([
      'b',
    ]);
    expect(await identities.count({ now: 0, ipaddress: '10.0.0.2' })).toBe(1);
    expect(stored('b')).toEqual({ lastseen: 2_000, lastip: '10.0.0.2', online: 1 });
  });

  it('merges the contacts of one identity: newest time and address, last connection state', async () => {
    await identities.markSeen('a', { at: 1_000, ip: '10.0.0.1', online: true });
    await identities.markSeen('a', { at: 3_000, ip: '10.0.0.3' });
    await identities.markSeen('a', { at: 4_000, online: false });
    const merged = { lastseen: 4_000, lastip: '10.0.0.3', online: false };
    expect(await identities.get('a')).toMatchObject(merged);
    presence.flush();
    expect(stored('a')).toEqual({ ...merged, online: 0 });
  });

  it('does not let an older contact replace a newer address already stored', async () => {
    await identities.markSeen('a', { at: 5_000, ip: '10.0.0.5' });
    presence.flush();
    await identities.markSeen('a', { at: 4_000, ip: '10.0.0.4' });
    expect(await identities.get('a')).toMatchObject({ lastseen: 5_000, lastip: '10.0.0.5' });
    presence.flush();
    expect(stored('a')).toMatchObject({ lastseen: 5_000, lastip: '10.0.0.5' });
  });

  it('writes contacts of identities that do not exist nowhere', async () => {
    await identities.markSeen('nobody', { at: 1_000, ip: '10.0.0.9' });
    presence.flush();
    expect(await identities.get('nobody')).toBeUndefined();
    expect(stored('nobody')).toBeUndefined();
  });

  it('gives a new identity of a removed one’s name none of its contacts', async () => {
    await identities.markSeen('a', { at: 1_000, ip: '10.0.0.1', online: true });
    expect(await identities.remove(['a'])).toEqual([]);
    await identities.insert(newIdentity('a'));
    expect(await identities.get('a')).toMatchObject({ lastseen: null, lastip: null, online: false });
    presence.flush();
    expect(stored('a')).toEqual({ lastseen: null, lastip: null, online: 0 });
  });

  it('keeps contacts whose write failed for the next flush', async () => {
    await identities.markSeen('a', { at: 1_000, ip: '10.0.0.1' });
    const blocker = new Database(file);
    blocker.pragma('busy_timeout = 0');
    db.pragma('busy_timeout = 0');
    blocker.exec('BEGIN IMMEDIATE');
    expect(() => presence.flush()).toThrow(/locked|busy/i);
    blocker.exec('ROLLBACK');
    blocker.close();
    vi.advanceTimersByTime(500);
    expect(stored('a')).toMatchObject({ lastseen: 1_000, lastip: '10.0.0.1' });
  });

  it('stores contacts on its timer only when the ingest commits let go of the write lock', async () => {
    const waiting: (() => void)[] = [];
    presence.close();
    presence = createPresenceBuffer(db, (write) => waiting.push(write));
    identities = createSqliteIdentityStore(db, undefined, presence);
    await identities.markSeen('a', { at: 2_000, online: true });
    vi.advanceTimersByTime(500);
    expect(stored('a')).toMatchObject({ lastseen: null });
    expect(waiting).toHaveLength(1);
    waiting.shift()!();
    expect(stored('a')).toMatchObject({ lastseen: 2_000, online: 1 });
  });

  it('stores what is pending when closed', async () => {
    await identities.markSeen('b', { at: 7_000, online: true });
    presence.close();
    expect(stored('b')).toEqual({ lastseen: 7_000, lastip: null, online: 1 });
  });
});
