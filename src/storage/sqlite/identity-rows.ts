import type { IdentityRecord } from '../../core/ports.js';
import type { IdentityState, Tag } from '../../core/schemas/common.js';
import type { AuthType, IdentityPermission } from '../../core/schemas/identity.js';
import { alreadyExists } from '../../core/errors.js';
import type { Statement } from 'better-sqlite3';

export interface IdentityRow {
  id: number;
  identity: string;
  auth_type: string;
  credential: string | null;
  auth_expire: number | null;
  locked: number;
  online: number;
  lastseen: number | null;
  lastip: string | null;
  permission: string;
}

export const COLUMNS =
  'i.id, i.identity, i.auth_type, i.credential, i.auth_expire, i.locked, i.online, i.lastseen, i.lastip, i.permission';

export function conflict(error: unknown): never {
  const message = (error as Error).message ?? '';
  if (message.includes('UNIQUE constraint failed: identities.identity')) {
    throw alreadyExists('identity', 'an identity with this name already exists');
  }
  if (message.includes('UNIQUE constraint failed: identities.credential')) {
    throw alreadyExists('auth.key', 'this token is already used by another identity');
  }
  throw error;
}

/** Identity rows with their tags and state, read with two statements for the whole page. */
export function toRecords(stmt: (sql: string) => Statement, rows: IdentityRow[]): IdentityRecord[] {
  if (rows.length === 0) return [];
  const ids = JSON.stringify(rows.map((r) => r.id));
  const tags = new Map<number, Tag[]>();
  const state = new Map<number, IdentityState>();
  for (const t of stmt(
    'SELECT identity_id, name, value FROM identity_tags WHERE identity_id IN (SELECT value FROM json_each(?)) ORDER BY name, value',
  ).all(ids) as { identity_id: number; name: string; value: string }[]) {
    let list = tags.get(t.identity_id);
    if (!list) tags.set(t.identity_id, (list = []));
    list.push({ name: t.name, value: t.value });
  }
  for (const s of stmt(
    'SELECT identity_id, resource, set_value, reported_value, timestamp FROM identity_state WHERE identity_id IN (SELECT value FROM json_each(?))',
  ).all(ids) as {
    identity_id: number;
    resource: string;
    set_value: string | null;
    reported_value: string | null;
    timestamp: number;
  }[]) {
    let entries = state.get(s.identity_id);
    if (!entries) state.set(s.identity_id, (entries = {}));
    entries[s.resource] = {
      ...(s.set_value !== null && { set: JSON.parse(s.set_value) as string | number | boolean }),
      ...(s.reported_value !== null && {
        reported: JSON.parse(s.reported_value) as string | number | boolean,
      }),
      timestamp: s.timestamp,
    };
  }
  return rows.map((row) => ({
    identity: row.identity,
    authType: row.auth_type as AuthType,
    credential: row.credential,
    authExpire: row.auth_expire,
    locked: row.locked === 1,
    online: row.online === 1,
    lastseen: row.lastseen,
    lastip: row.lastip,
    permission: JSON.parse(row.permission) as IdentityPermission,
    tags: tags.get(row.id) ?? [],
    state: state.get(row.id) ?? {},
  }));
}
