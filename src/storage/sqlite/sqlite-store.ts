import type { Store } from '../../core/ports.js';
import { createSqliteArchiveSource } from './archive-source.js';
import { startCheckpointer } from './checkpointer.js';
import { createSqliteDeviceIdentityStore } from './device-identity-store.js';
import { createSqliteDeviceMetricsStore } from './device-metrics-store.js';
import { createGroupCommit } from './group-commit.js';
import { createSqliteIngestStore } from './ingest-store.js';
import { createSqliteIdentityStore } from './identity-store.js';
import { openDatabase } from './open-database.js';
import { createPresenceBuffer } from './presence-buffer.js';
import { upgradeLegacyPartitions } from './sample-partitions.js';
import { createSqliteResourceStore } from './resource-store.js';
import { createSqliteRestoreStore } from './restore-store.js';
import { createSqliteSettingsStore } from './settings-store.js';
import { createSqliteTimeSeriesStore } from './time-series-store.js';
import { createSqliteWebhookStore } from './webhook-store.js';

/** The embedded default backend: one SQLite file (or ':memory:' for tests). */
export function createSqliteStore(path: string): Store {
  const db = openDatabase(path);
  // A single process owns the file, so nobody is connected when it starts.
  db.prepare('UPDATE identities SET online = 0 WHERE online = 1').run();
  upgradeLegacyPartitions(db);
  const groupCommit = createGroupCommit(db);
  const presence = createPresenceBuffer(db);
  const ingest = createSqliteIngestStore(db, presence);
  const checkpointer = startCheckpointer(db);
  const ingestHooks = { settle: () => ingest.settle(), partitionsDropped: () => ingest.partitionsDropped() };
  return {
    identities: createSqliteIdentityStore(db, groupCommit, presence),
    resources: createSqliteResourceStore(db),
    settings: createSqliteSettingsStore(db),
    devices: createSqliteDeviceIdentityStore(db, groupCommit),
    ingest,
    deviceMetrics: createSqliteDeviceMetricsStore(db),
    series: createSqliteTimeSeriesStore(db, ingestHooks),
    webhooks: createSqliteWebhookStore(db, groupCommit),
    archive: createSqliteArchiveSource(db, ingestHooks),
    restores: createSqliteRestoreStore(db),
    async close() {
      if (db.open) {
        groupCommit.flush();
        ingest.flush();
      }
      presence.close();
      await checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}
