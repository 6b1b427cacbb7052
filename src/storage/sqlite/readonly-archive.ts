import Database from 'better-sqlite3';
import type { DayReader } from '../../core/archive-ports.js';
import type { ResourceDefinition } from '../../core/schemas/resource.js';
import { createSqliteDayReader } from './archive-source.js';
import { LATEST_SCHEMA } from './open-database.js';

/** Time series (partitions per retention class, signals) came with schema 6. */
const TIME_SERIES_SCHEMA = 6;

export interface ReadonlyArchiveSource {
  reader: DayReader;
  resources: { list(): Promise<Record<string, ResourceDefinition>> };
  close(): void;
}

/**
 * The gateway's database opened read-only, for `fleetgate archive`: SQLite's WAL lets it read
 * while the gateway writes, and it never changes the file (no migration, no repair).
 */
export function openReadonlyArchiveSource(file: string): ReadonlyArchiveSource {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const version = db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number | null;
    if (version === null || version < TIME_SERIES_SCHEMA)
      throw new Error(`the database has schema ${version ?? 0}: start this fleetgate once to upgrade it`);
    if (version > LATEST_SCHEMA)
      throw new Error(
        `the database was written by a newer fleetgate (schema ${version}, this build knows ${LATEST_SCHEMA})`,
      );
    const definitions = db.prepare<[], { alias: string; definition: string }>(
      'SELECT alias, definition FROM resources',
    );
    return {
      reader: createSqliteDayReader(db),
      resources: {
        list: () =>
          Promise.resolve(
            Object.fromEntries(
              definitions.all().map((r) => [r.alias, JSON.parse(r.definition) as ResourceDefinition]),
            ),
          ),
      },
      close: () => db.close(),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
