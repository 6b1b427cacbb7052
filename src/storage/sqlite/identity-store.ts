import type Database from 'better-sqlite3';
import type {
  BulkIdentityChange,
  IdentityQuery,
  IdentityStore,
  IdentityUpdate,
  NewIdentity,
  OrderKey,
  StateWrite,
} from '../../core/ports.js';
import type { Tag } from '../../core/schemas/common.js';
import type { GatewayEvent } from '../../core/events.js';
import { writeTransaction } from './open-database.js';
import { createGroupCommit, type GroupCommit } from './group-commit.js';
import { orderSql, whereSql } from './identity-query-sql.js';
import { COLUMNS, conflict, toRecords, type IdentityRow } from './identity-rows.js';
import { createPresenceBuffer, withContact, type PresenceBuffer } from './presence-buffer.js';
import { createRaisedEvents, type RaisedEvents } from './raised-events.js';
import { registerRegexp } from './sql-functions.js';
import { StatementCache } from './statement-cache.js';
import { COUNT_ESTIMATE_CAP, createTagPlanner } from './tag-planner.js';

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

export function createSqliteIdentityStore(
  db: Database.Database,
  groupCommit: GroupCommit = createGroupCommit(db),
  presence: PresenceBuffer = createPresenceBuffer(db),
  raised: RaisedEvents = createRaisedEvents(db, groupCommit),
): IdentityStore {
  registerRegexp(db);
  const statements = new StatementCache(db);
  const stmt = (sql: string) => statements.get(sql);
  const { mostSelectiveTag, driveForList } = createTagPlanner(stmt);
  const hydrate = (rows: IdentityRow[]) => toRecords(stmt, rows);
  const idOf = (identity: string) =>
    (stmt('SELECT id FROM identities WHERE identity = ?').get(identity) as { id: number } | undefined)?.id;

  function writeState(id: number, writes: StateWrite[]): void {
    const upsert =
      stmt(`INSERT INTO identity_state (identity_id, resource, set_value, reported_value, timestamp)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (identity_id, resource) DO UPDATE SET
        set_value = coalesce(excluded.set_value, set_value),
        reported_value = coalesce(excluded.reported_value, reported_value),
        timestamp = excluded.timestamp`);
    for (const w of writes) upsert.run(id, w.resource, json(w.set), json(w.reported), w.timestamp);
  }

  function addTags(id: number, tags: Tag[], replace: boolean): void {
    if (replace) {
      for (const name of new Set(tags.map((t) => t.name))) {
        stmt('DELETE FROM identity_tags WHERE identity_id = ? AND name = ?').run(id, name);
      }
    }
    const insert = stmt('INSERT OR IGNORE INTO identity_tags (identity_id, name, value) VALUES (?, ?, ?)');
    for (const tag of tags) insert.run(id, tag.name, tag.value);
  }

  function removeTag(id: number, name: string, values?: string[]): void {
    if (values === undefined)
      stmt('DELETE FROM identity_tags WHERE identity_id = ? AND name = ?').run(id, name);
    else
      for (const value of values)
        stmt('DELETE FROM identity_tags WHERE identity_id = ? AND name = ? AND value = ?').run(
          id,
          name,
          value,
        );
  }

  const insert = (record: NewIdentity, createdAt: number) => {
    let id: number;
    try {
      id = Number(
        stmt(`INSERT INTO identities (identity, auth_type, credential, auth_expire, locked, permission, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
          record.identity,
          record.authType,
          record.credential,
          record.authExpire,
          record.locked ? 1 : 0,
          JSON.stringify(record.permission),
          createdAt,
        ).lastInsertRowid,
      );
    } catch (error) {
      conflict(error);
    }
    stmt(`INSERT INTO identity_state (identity_id, resource, set_value, timestamp)
      SELECT ?, alias, definition -> '$.initial', ? FROM resources WHERE definition -> '$.initial' IS NOT NULL`).run(
      id,
      createdAt,
    );
  };

  const remove = writeTransaction(db, (identities: string[], events: GatewayEvent[]) => {
    const ids = identities.map((identity) => [identity, idOf(identity)] as const);
    const missing = ids.filter(([, id]) => id === undefined).map(([identity]) => identity);
    if (missing.length > 0) return missing;
    for (const [, id] of ids) stmt('DELETE FROM identities WHERE id = ?').run(id);
    raised.write(events);
    return [];
  });

  const updateMatching = writeTransaction(db, (query: IdentityQuery, change: BulkIdentityChange) => {
    const where = whereSql(query);
    const ids = (
      stmt(`SELECT i.id FROM identities i ${where.sql}`).all(where.params) as { id: number }[]
    ).map((r) => r.id);
    for (const id of ids) {
      addTags(id, change.addTags, false);
      for (const tag of change.removeTags)
        removeTag(id, tag.name, tag.value === undefined ? undefined : [tag.value]);
      writeState(id, change.state);
    }
    return ids.length;
  });

  /** Runs `fn` on the identity's row id inside one transaction; false when it does not exist. */
  const onIdentity = (fn: (id: number) => void) =>
    writeTransaction(db, (identity: string) => {
      const id = idOf(identity);
      if (id === undefined) return false;
      fn(id);
      return true;
    });

  return {
    async leftOnline() {
      return stmt('SELECT identity, ip FROM left_online ORDER BY identity').all() as {
        identity: string;
        ip: string | null;
      }[];
    },
    async forgetLeftOnline(identities) {
      if (identities.length === 0) return;
      await groupCommit.run(() =>
        stmt('DELETE FROM left_online WHERE identity IN (SELECT value FROM json_each(?))').run(
          JSON.stringify(identities),
        ),
      );
    },
    async insert(record, event) {
      return groupCommit.run(() => {
        insert(record, record.createdAt);
        if (event) raised.write([event]);
      });
    },
    unforgottenEvents: () => raised.unforgotten(),
    forgetEvents: (events) => raised.forget(events),
    async get(identity) {
      // Not flushed: devices' own reads (set values at connect, HTTP reads) come here, each would
      // flush alone. The contact not yet written is applied to the record instead.
      const record = hydrate(
        stmt(`SELECT ${COLUMNS} FROM identities i WHERE identity = ?`).all(identity) as IdentityRow[],
      )[0];
      return record && withContact(record, presence.pending(identity));
    },
    async existing(identities) {
      const rows = stmt(
        'SELECT identity FROM identities WHERE identity IN (SELECT value FROM json_each(?))',
      ).all(JSON.stringify(identities)) as { identity: string }[];
      return new Set(rows.map((r) => r.identity));
    },
    async list(query: IdentityQuery, order: OrderKey[], limit: number, offset: number) {
      presence.flush();
      const where = whereSql(query, driveForList(query, order, limit + offset));
      const sort = orderSql(order);
      const sql = `SELECT ${COLUMNS} FROM identities i ${sort.joins} ${where.sql} ${sort.orderBy} LIMIT @limit OFFSET @offset`;
      return hydrate(stmt(sql).all({ ...where.params, ...sort.params, limit, offset }) as IdentityRow[]);
    },
    async count(query) {
      presence.flush();
      // Statuses partition the identities, so a count over several is the sum of single-status
      // counts, each one range of the status index.
      const statuses = query.statuses && query.statuses.length > 1 ? query.statuses : [undefined];
      let total = 0;
      for (const status of statuses) {
        const single = status === undefined ? query : { ...query, statuses: [status] };
        const where = whereSql(single, mostSelectiveTag(single, COUNT_ESTIMATE_CAP));
        total += (
          stmt(`SELECT count(*) AS n FROM identities i ${where.sql}`).get(where.params) as { n: number }
        ).n;
      }
      return total;
    },
    async update(identity: string, update: IdentityUpdate) {
      const columns: Record<string, unknown> = {
        auth_type: update.authType,
        credential: update.credential,
        auth_expire: update.authExpire,
        locked: update.locked === undefined ? undefined : update.locked ? 1 : 0,
      };
      const sets = Object.keys(columns).filter((column) => columns[column] !== undefined);
      const params = { identity, ...Object.fromEntries(sets.map((column) => [column, columns[column]])) };
      if (sets.length === 0) return idOf(identity) !== undefined;
      try {
        return (
          stmt(
            `UPDATE identities SET ${sets.map((c) => `${c} = @${c}`).join(', ')} WHERE identity = @identity`,
          ).run(params).changes > 0
        );
      } catch (error) {
        conflict(error);
      }
    },
    async remove(identities, events = []) {
      const missing = remove(identities, events);
      // A new identity of the same name must not inherit the contacts of the removed one.
      if (missing.length === 0) for (const identity of identities) presence.forget(identity);
      return missing;
    },
    async updateMatching(query, change) {
      presence.flush();
      return updateMatching(query, change);
    },
    async addTags(identity, tags, replace) {
      return groupCommit.run(() => {
        const id = idOf(identity);
        if (id === undefined) return false;
        addTags(id, tags, replace);
        return true;
      });
    },
    async tagValues(identity, name) {
      const id = idOf(identity);
      if (id === undefined) return undefined;
      return (
        stmt('SELECT value FROM identity_tags WHERE identity_id = ? AND name = ? ORDER BY value').all(
          id,
          name,
        ) as { value: string }[]
      ).map((r) => r.value);
    },
    async tagNames() {
      return (stmt('SELECT DISTINCT name FROM identity_tags ORDER BY name').all() as { name: string }[]).map(
        (r) => r.name,
      );
    },
    async removeTag(identity, name, values) {
      return onIdentity((id) => removeTag(id, name, values))(identity);
    },
    async updatePermission(identity, permission) {
      // A JSON merge patch replaces each entity given (arrays are replaced, not merged).
      return (
        stmt('UPDATE identities SET permission = json_patch(permission, ?) WHERE identity = ?').run(
          JSON.stringify(permission),
          identity,
        ).changes > 0
      );
    },
    async markSeen(identity, seen) {
      presence.note(identity, seen);
    },
    async writeState(identity, writes) {
      return onIdentity((id) => writeState(id, writes))(identity);
    },
  };
}
