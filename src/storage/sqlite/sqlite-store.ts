import type { Store } from '../../core/ports.js';
import { createSqliteIdentityStore } from './identity-store.js';
import { openDatabase } from './open-database.js';
import { createSqliteResourceStore } from './resource-store.js';
import { createSqliteSettingsStore } from './settings-store.js';

/** The embedded default backend: one SQLite file (or ':memory:' for tests). */
export function createSqliteStore(path: string, options: { durable?: boolean } = {}): Store {
  const db = openDatabase(path, options);
  // A single process owns the file, so nobody is connected when it starts.
  db.prepare('UPDATE identities SET online = 0 WHERE online = 1').run();
  return {
    identities: createSqliteIdentityStore(db),
    resources: createSqliteResourceStore(db),
    settings: createSqliteSettingsStore(db),
    async close() {
      if (db.open) db.close();
    },
  };
}
