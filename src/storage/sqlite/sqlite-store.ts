import type { Store } from '../../core/ports.js';
import { createSqliteArchiveSource } from './archive-source.js';
import { startCheckpointer } from './checkpointer.js';
import { createSqliteDeviceIdentityStore } from './device-identity-store.js';
import { createSqliteDeviceMetricsStore } from './device-metrics-store.js';
import { createGroupCommit } from './group-commit.js';
import { createSqliteIngestStore, type SqliteIngestStore } from './ingest-store.js';
import { createSqliteIdentityStore } from './identity-store.js';
import { openDatabase, writeTransaction } from './open-database.js';
import { createPresenceBuffer } from './presence-buffer.js';
import { upgradeLegacyPartitions } from './sample-partitions.js';
import { createSqliteResourceStore } from './resource-store.js';
import { createSqliteRestoreStore } from './restore-store.js';
import { createSqliteSettingsStore } from './settings-store.js';
import { createSqliteTimeSeriesStore } from './time-series-store.js';
import { createSqliteWebhookStore } from './webhook-store.js';
import { createSqliteHandlerQueueStore } from './handler-queue-store.js';
import { createRaisedEvents } from './raised-events.js';

export interface SqliteStoreOptions {
  /**
   * Commit device data on the ingest thread (ingest-thread.ts); on by default for a file, never
   * for ':memory:' (a second connection could not see it).
   */
  ingestThread?: boolean;
  /** Told when the ingest thread failed and device data went back to the calling thread. */
  onIngestThreadFailure?: (error: Error) => void;
  /** Told when a device write's callback threw once the rest of its batch was answered (a bug). */
  onIngestCallbackError?: (error: Error) => void;
}

/** The embedded default backend: one SQLite file (or ':memory:' for tests). */
export function createSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const db = openDatabase(path);
  // A single process owns the file, so nobody is connected when it starts. Devices still online
  // were connected when the previous run died: they wait in left_online until the gateway has
  // raised their disconnects.
  writeTransaction(db, () => {
    db.prepare(
      'INSERT OR REPLACE INTO left_online (identity, ip) SELECT identity, lastip FROM identities WHERE online = 1',
    ).run();
    db.prepare('UPDATE identities SET online = 0 WHERE online = 1').run();
  })();
  upgradeLegacyPartitions(db);
  const groupCommit = createGroupCommit(db);
  // The gateway thread's own timed writes wait for the ingest thread to let go of the write lock:
  // taken while a commit holds it, SQLite's busy handler would put the whole thread to sleep
  // (1, 2, 5, 10 … ms), devices and all (BENCHMARKS.md).
  const started: { ingest?: SqliteIngestStore } = {};
  const whenIdle = (write: () => void) => (started.ingest ? started.ingest.whenIdle(write) : write());
  const presence = createPresenceBuffer(db, whenIdle);
  const raised = createRaisedEvents(db, groupCommit);
  // Before the ingest thread: its connection checkpoints as this one does.
  const checkpointer = startCheckpointer(db);
  const ingest = createSqliteIngestStore(db, presence, {
    thread: (options.ingestThread ?? true) && !db.memory && db.name !== '',
    onThreadFailure: options.onIngestThreadFailure,
    onCallbackError: options.onIngestCallbackError,
  });
  started.ingest = ingest;
  checkpointer?.rewindWith(() => ingest.rewind());
  const ingestHooks = { settle: () => ingest.settle(), partitionsDropped: () => ingest.partitionsDropped() };
  return {
    identities: createSqliteIdentityStore(db, groupCommit, presence, raised),
    resources: createSqliteResourceStore(db),
    settings: createSqliteSettingsStore(db),
    devices: createSqliteDeviceIdentityStore(db, groupCommit, raised),
    ingest,
    deviceMetrics: createSqliteDeviceMetricsStore(db, whenIdle),
    series: createSqliteTimeSeriesStore(db, ingestHooks),
    webhooks: createSqliteWebhookStore(db, groupCommit),
    handlerQueue: createSqliteHandlerQueueStore(db, groupCommit),
    archive: createSqliteArchiveSource(db, ingestHooks),
    restores: createSqliteRestoreStore(db),
    async close() {
      if (db.open) {
        groupCommit.flush();
        await ingest.close();
      }
      presence.close();
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}
