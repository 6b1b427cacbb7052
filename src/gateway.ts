import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { buildApi } from './api/build-api.js';
import { createApiMetrics } from './api/metrics.js';
import { InProcessBus } from './bus/in-process-bus.js';
import { resolveAdminToken } from './config/admin-token.js';
import { envName, flagName, type Config } from './config/config-schema.js';
import { systemClock, type Clock } from './core/clock.js';
import { createDeviceMetrics } from './core/device-metrics.js';
import { createCore } from './core/device2.js';
import type { DeviceService } from './core/device-service.js';
import { closeMqtt, createMqttListeners, listen, type MqttListener } from './mqtt/mqtt-listeners.js';
import { createMqttBroker } from './mqtt/mqtt-broker.js';
import type { Aedes } from 'aedes';
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
  devices: DeviceService;
  bus: InProcessBus;
  /** Binds every listener; on failure closes what it opened and throws naming the setting. */
  start(): Promise<{ apiPort: number; deviceHttpPort: number; deviceHttpsPort?: number }>;
  /** Stops accepting, lets requests in flight finish, and closes the store. */
  stop(): Promise<void>;
}

export class StartupError extends Error {}

function bindFailure(error: unknown, port: number, host: string): string {
  return (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
    ? `port ${port} on ${host} is in use`
    : `port ${port} on ${host} cannot be bound (${(error as Error).message})`;
}

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
  const deviceMetrics = createDeviceMetrics({
    store: store.deviceMetrics,
    clock,
    connectedCount: () => devices.connectedCount(),
    onError: (err) => logger.error({ err }, 'device metrics flush failed'),
  });
  const activity = deviceMetrics.recorder;
  const { device2, devices } = createCore({ store, events: bus, clock, metrics: deviceMetrics });
  const metrics = createApiMetrics(async () => (await device2.countIdentities({})).count);
  const api = buildApi({ device2, adminToken: admin.token, metrics, logger, version: packageVersion() });
  const deviceHttp = createDeviceHttpListeners({ config, devices, clock, logger });

  let mqtt: { broker: Aedes; listeners: MqttListener[] } | undefined;

  async function stop(): Promise<void> {
    // Device writes in flight finish (and long-polls end) before the store closes.
    await Promise.all([
      mqtt ? closeMqtt(mqtt.broker, mqtt.listeners) : undefined,
      api.close(),
      deviceHttp.stop(),
    ]);
    await deviceMetrics.stop();
    await store.close();
  }

  /** Binds one device listener, or stops everything and throws naming its setting. */
  async function bind(listener: MqttListener, key: 'mqttPort' | 'mqttsPort'): Promise<void> {
    try {
      const port = await listen(listener, config.bind);
      logger.info({ listener: listener.name, port }, 'listening');
    } catch (error) {
      await stop();
      throw new StartupError(
        `${envName(key)} (${flagName(key)}): ${bindFailure(error, config[key], config.bind)}`,
      );
    }
  }

  return {
    device2,
    devices,
    bus,
    async start() {
      try {
        await api.listen({ port: config.apiPort, host: config.bind });
      } catch (error) {
        await stop();
        throw new StartupError(
          `${envName('apiPort')} (${flagName('apiPort')}): ${bindFailure(error, config.apiPort, config.bind)}`,
        );
      }
      deviceMetrics.start();
      const address = api.server.address();
      const apiPort = typeof address === 'object' && address ? address.port : config.apiPort;
      logger.info({ listener: 'api', port: apiPort }, 'listening');
      let devicePorts;
      try {
        devicePorts = await deviceHttp.start();
      } catch (error) {
        await stop();
        throw error instanceof ListenerError ? new StartupError(error.message) : error;
      }
      const broker = await createMqttBroker({ devices, activity, logger });
      let listeners: MqttListener[];
      try {
        listeners = createMqttListeners(broker, {
          bind: config.bind,
          mqttPort: config.mqttPort,
          mqttsPort: config.mqttsPort,
          tls:
            config.tlsCert && config.tlsKey
              ? { certFile: config.tlsCert, keyFile: config.tlsKey }
              : undefined,
        });
      } catch (error) {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await stop();
        throw new StartupError(
          `${envName('tlsCert')} (${flagName('tlsCert')}): cannot use the certificate and key (${(error as Error).message})`,
        );
      }
      mqtt = { broker, listeners };
      for (const listener of listeners)
        await bind(listener, listener.name === 'mqtt' ? 'mqttPort' : 'mqttsPort');
      return { apiPort, ...devicePorts };
    },
    stop,
  };
}
