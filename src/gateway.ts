import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { buildApi } from './api/build-api.js';
import { createApiMetrics } from './api/metrics.js';
import { InProcessBus } from './bus/in-process-bus.js';
import { resolveAdminToken } from './config/admin-token.js';
import { envName, flagName, type Config } from './config/config-schema.js';
import { systemClock, type Clock } from './core/clock.js';
import { createCore } from './core/device2.js';
import type { Device2Api } from './core/operations.js';
import { createDeviceHttpListeners, ListenerError } from './device-http/device-http-listeners.js';
import { createSqliteStore } from './storage/sqlite/sqlite-store.js';
import { packageVersion } from './version.js';

export interface GatewayOptions {
  logger: Logger;
  clock?: Clock;
}

export interface Gateway {
  device2: Device2Api;
  bus: InProcessBus;
  /** Binds every listener; on failure closes what it opened and throws naming the setting. */
  start(): Promise<{ apiPort: number; deviceHttpPort: number; deviceHttpsPort?: number }>;
  /** Stops accepting, lets requests in flight finish, and closes the store. */
  stop(): Promise<void>;
}

export class StartupError extends Error {}

function openDataDir(config: Config) {
  try {
    mkdirSync(config.dataDir, { recursive: true });
    const admin = resolveAdminToken(config.adminToken, config.dataDir);
    return { admin, store: createSqliteStore(join(config.dataDir, 'fleetgate.db')) };
  } catch (error) {
    throw new StartupError(
      `${envName('dataDir')} (${flagName('dataDir')}): cannot use ${config.dataDir} (${(error as Error).message})`,
    );
  }
}

/** The composition root: the one place that builds and wires every part of the gateway. */
export function createGateway(config: Config, { logger, clock = systemClock }: GatewayOptions): Gateway {
  const { store, admin } = openDataDir(config);
  if (admin.generated) {
    logger.info(
      { adminToken: admin.token, file: admin.file },
      'generated the admin token; it is kept in the data directory',
    );
  }
  const bus = new InProcessBus((err, event) =>
    logger.error({ err, event: event.type }, 'event subscriber failed'),
  );
  const { device2, devices } = createCore({ store, events: bus, clock });
  const metrics = createApiMetrics(async () => (await device2.countIdentities({})).count);
  const api = buildApi({ device2, adminToken: admin.token, metrics, logger, version: packageVersion() });

  const deviceHttp = createDeviceHttpListeners({ config, devices, clock, logger });

  async function stop(): Promise<void> {
    // Device writes in flight finish (and long-polls end) before the store closes.
    await Promise.all([api.close(), deviceHttp.stop()]);
    await store.close();
  }

  return {
    device2,
    bus,
    async start() {
      try {
        await api.listen({ port: config.apiPort, host: config.bind });
      } catch (error) {
        await stop();
        const reason =
          (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
            ? 'is in use'
            : `cannot be bound (${(error as Error).message})`;
        throw new StartupError(
          `${envName('apiPort')} (${flagName('apiPort')}): port ${config.apiPort} on ${config.bind} ${reason}`,
        );
      }
      const address = api.server.address();
      const apiPort = typeof address === 'object' && address ? address.port : config.apiPort;
      logger.info({ listener: 'api', port: apiPort }, 'listening');
      try {
        return { apiPort, ...(await deviceHttp.start()) };
      } catch (error) {
        await stop();
        throw error instanceof ListenerError ? new StartupError(error.message) : error;
      }
    },
    stop,
  };
}
