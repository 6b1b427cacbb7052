import Database from 'better-sqlite3';
import { sql as registry } from './migrations/001-registry.js';
import { sql as registryIndexes } from './migrations/002-registry-indexes.js';
import { sql as samples } from './migrations/003-samples.js';
import { sql as deviceMetrics } from './migrations/004-device-metrics.js';
import { sql as webhooks } from './migrations/005-webhooks.js';
import { sql as timeSeries } from './migrations/006-time-series.js';
import { sql as archiveRestore } from './migrations/007-archive-restore.js';
import { sql as webhookProgress } from './migrations/009-webhook-progress.js';
import { sql as stagedSamples } from './migrations/010-staged-samples.js';
import { sql as handlerQueue } from './migrations/011-handler-queue.js';
import { sql as leftOnline } from './migrations/012-left-online.js';
import { sql as raisedEvents } from './migrations/013-raised-events.js';
import { sql as stagedBatches } from './migrations/014-staged-batches.js';

type Db = Database.Database;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Ordered; a released migration is never edited, only followed by a new one. Versions may have
 * gaps (branches take numbers ahead of merging): each one missing from the database is applied,
 * in order, whichever newer ones already are.
 */
const migrations: Migration[] = [
  { version: 1, name: 'registry', sql: registry },
  { version: 2, name: 'registry-indexes', sql: registryIndexes },
  { version: 3, name: 'samples', sql: samples },
  { version: 4, name: 'device-metrics', sql: deviceMetrics },
  { version: 5, name: 'webhooks', sql: webhooks },
  { version: 6, name: 'time-series', sql: timeSeries },
  { version: 7, name: 'archive-restore', sql: archiveRestore },
  { version: 9, name: 'webhook-progress', sql: webhookProgress },
  { version: 10, name: 'staged-samples', sql: stagedSamples },
  { version: 11, name: 'handler-queue', sql: handlerQueue },
  { version: 12, name: 'left-online', sql: leftOnline },
  { version: 13, name: 'raised-events', sql: raisedEvents },
  { version: 14, name: 'staged-batches', sql: stagedBatches },
];

/** The newest schema this build knows. */
export const LATEST_SCHEMA = Math.max(...migrations.map((m) => m.version));

export function migrate(db: Db, list: Migration[] = migrations): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const applied = new Set(
    db
      .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
      .all()
      .map((r) => r.version),
  );
  const newest = Math.max(0, ...applied);
  const known = Math.max(...list.map((m) => m.version));
  if (newest > known) {
    throw new Error(
      `the database was written by a newer fleetgate (schema ${newest}, this build knows ${known})`,
    );
  }
  for (const migration of [...list].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    })();
  }
}

/**
 * Opens (creating if needed) and migrates a database. WAL with synchronous=NORMAL survives a crash
 * of the process losing nothing committed (a power cut may lose the last commits).
 */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    configure(db);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A second connection to a database `openDatabase` opened (the ingest thread's). */
export function openConnection(path: string): Db {
  const db = new Database(path, { fileMustExist: true });
  try {
    configure(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function configure(db: Db): void {
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // A multi-row insert keeps the pages it changes in a statement journal, to undo itself alone;
  // past 64 KiB that journal spills to a temporary file, one pwrite per page. In memory, group
  // commits of many devices' samples cost about half as much (docs/architecture.md).
  db.pragma('temp_store = MEMORY');
}

/**
 * A write transaction: BEGIN IMMEDIATE takes the write lock first (waiting up to `busy_timeout`).
 * Another connection writes to the same file (the ingest thread), and a transaction that read
 * before writing could not then write once that connection had committed (SQLITE_BUSY_SNAPSHOT).
 */
export function writeTransaction<F extends Parameters<Db['transaction']>[0]>(
  db: Db,
  fn: F,
): Database.Transaction<F>['immediate'] {
  const transaction = db.transaction(fn);
  return transaction.immediate.bind(transaction);
}
