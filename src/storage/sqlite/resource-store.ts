import type Database from 'better-sqlite3';
import { alreadyExists } from '../../core/errors.js';
import type { ResourceRevision, ResourceStore } from '../../core/ports.js';
import type { ResourceDefinition } from '../../core/schemas/resource.js';
import { writeTransaction } from './open-database.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export function createSqliteResourceStore(db: Database.Database): ResourceStore {
  /**
   * Every identity created reads the definitions (for their initial values), so they are kept in
   * memory: this process is the only writer of the file, and every write below drops the copy.
   * The copy is deeply frozen, so a caller can read it but never change it for the next one.
   */
  let cached: Record<string, ResourceDefinition> | undefined;
  const select = db.prepare<[string], { definition: string }>(
    'SELECT definition FROM resources WHERE alias = ?',
  );
  const selectAll = db.prepare<[], { alias: string; definition: string }>(
    'SELECT alias, definition FROM resources ORDER BY alias',
  );
  const insert = db.prepare('INSERT INTO resources (alias, definition) VALUES (?, ?)');
  const initialize =
    db.prepare(`INSERT OR IGNORE INTO identity_state (identity_id, resource, set_value, timestamp)
    SELECT id, @resource, @set, @timestamp FROM identities`);

  const add = writeTransaction(
    db,
    (alias: string, definition: ResourceDefinition, initial?: { set?: unknown; timestamp: number }) => {
      try {
        insert.run(alias, JSON.stringify(definition));
      } catch (error) {
        if ((error as Error).message.includes('UNIQUE constraint failed'))
          throw alreadyExists('alias', `resource "${alias}" already exists`);
        throw error;
      }
      if (initial)
        initialize.run({ resource: alias, set: JSON.stringify(initial.set), timestamp: initial.timestamp });
    },
  );
  const update = writeTransaction(
    db,
    (alias: string, revise: (current: ResourceDefinition) => ResourceRevision) => {
      const row = select.get(alias);
      if (!row) return false;
      const { definition, initial } = revise(JSON.parse(row.definition) as ResourceDefinition);
      db.prepare('UPDATE resources SET definition = ? WHERE alias = ?').run(
        JSON.stringify(definition),
        alias,
      );
      if (initial)
        initialize.run({ resource: alias, set: JSON.stringify(initial.set), timestamp: initial.timestamp });
      return true;
    },
  );
  const remove = writeTransaction(db, (alias: string) => {
    if (db.prepare('DELETE FROM resources WHERE alias = ?').run(alias).changes === 0) return false;
    db.prepare('DELETE FROM identity_state WHERE resource = ?').run(alias);
    return true;
  });

  return {
    async add(alias, definition, initial) {
      cached = undefined;
      add(alias, definition, initial);
    },
    async get(alias) {
      const row = select.get(alias);
      return row && (JSON.parse(row.definition) as ResourceDefinition);
    },
    async list() {
      cached ??= deepFreeze(
        Object.fromEntries(
          selectAll.all().map((r) => [r.alias, JSON.parse(r.definition) as ResourceDefinition]),
        ),
      );
      return cached;
    },
    async update(alias, revise) {
      cached = undefined;
      return update(alias, revise);
    },
    async remove(alias) {
      cached = undefined;
      return remove(alias);
    },
  };
}
