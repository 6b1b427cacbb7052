import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { envName, flagName, type Config, type ConfigKey } from '../config/config-schema.js';
import { bindError, ListenerError } from '../config/listener-error.js';
import type { Clock } from '../core/clock.js';
import type { DeviceService } from '../core/device-service.js';
import { buildDeviceHttp } from './build-device-http.js';

export interface DeviceHttpListenerDeps {
  config: Pick<Config, 'bind' | 'deviceHttpPort' | 'deviceHttpsPort' | 'tlsCert' | 'tlsKey'>;
  devices: DeviceService;
  clock: Clock;
  logger: Logger;
}

export interface DeviceHttpListeners {
  /** Binds device-http, then device-https when TLS is configured; throws a ListenerError naming the setting. */
  start(): Promise<{ deviceHttpPort: number; deviceHttpsPort?: number }>;
  /** Stops accepting, ends long-polls, and resolves once the requests in flight are answered. */
  stop(): Promise<void>;
}

const label = (key: ConfigKey) => `${envName(key)} (${flagName(key)})`;

function readTls(config: DeviceHttpListenerDeps['config']): { cert: Buffer; key: Buffer } {
  const where = `${label('tlsCert')} and ${label('tlsKey')}`;
  try {
    const tls = { cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) };
    createSecureContext(tls);
    return tls;
  } catch (error) {
    throw new ListenerError(`${where}: not a usable PEM certificate and key (${(error as Error).message})`);
  }
}

/** The HTTP device API listeners of CONTRACT §1/§3: plain HTTP, and HTTPS when TLS is configured. */
export function createDeviceHttpListeners(deps: DeviceHttpListenerDeps): DeviceHttpListeners {
  const { config, devices, clock, logger } = deps;
  const open: FastifyInstance[] = [];

  async function listen(
    key: 'deviceHttpPort' | 'deviceHttpsPort',
    name: string,
    app: FastifyInstance,
  ): Promise<number> {
    open.push(app);
    try {
      await app.listen({ port: config[key], host: config.bind });
    } catch (error) {
      throw bindError(error, key, config[key], config.bind);
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config[key];
    logger.info({ listener: name, port }, 'listening');
    return port;
  }

  return {
    async start() {
      const tls = config.tlsCert !== undefined && config.tlsKey !== undefined ? readTls(config) : undefined;
      const deviceHttpPort = await listen(
        'deviceHttpPort',
        'device-http',
        buildDeviceHttp({ devices, clock, logger, protocol: 'http' }),
      );
      if (!tls) return { deviceHttpPort };
      const deviceHttpsPort = await listen(
        'deviceHttpsPort',
        'device-https',
        buildDeviceHttp({ devices, clock, logger, protocol: 'https', tls }),
      );
      return { deviceHttpPort, deviceHttpsPort };
    },
    async stop() {
      await Promise.all(open.splice(0).map((app) => app.close()));
    },
  };
}
