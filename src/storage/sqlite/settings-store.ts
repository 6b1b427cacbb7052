import type Database from 'better-sqlite3';
import type { SettingsStore } from '../../core/ports.js';
import type { GatewaySettings } from '../../core/schemas/settings.js';

export function createSqliteSettingsStore(db: Database.Database): SettingsStore {
  return {
    async get() {
      const row = db.prepare<[], { document: string }>('SELECT document FROM settings WHERE id = 1').get();
      return row && (JSON.parse(row.document) as GatewaySettings);
    },
    async put(settings) {
      db.prepare(
        'INSERT INTO settings (id, document) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET document = excluded.document',
      ).run(JSON.stringify(settings));
    },
  };
}
