import type Database from 'better-sqlite3';
import type { SettingsStore } from '../../core/ports.js';
import type { GatewaySettings } from '../../core/schemas/settings.js';
import { writeTransaction } from './open-database.js';

export function createSqliteSettingsStore(db: Database.Database): SettingsStore {
  const select = db.prepare<[], { document: string }>('SELECT document FROM settings WHERE id = 1');
  const upsert = db.prepare(
    'INSERT INTO settings (id, document) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET document = excluded.document',
  );
  const read = () => {
    const row = select.get();
    return row && (JSON.parse(row.document) as GatewaySettings);
  };
  const update = writeTransaction(db, (revise: (current: GatewaySettings | undefined) => GatewaySettings) => {
    const settings = revise(read());
    upsert.run(JSON.stringify(settings));
    return settings;
  });
  return {
    async get() {
      return read();
    },
    async update(revise) {
      return update(revise);
    },
  };
}
