import { Type, type Static } from '@sinclair/typebox';

const Port = (fallback: number, description: string) =>
  Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: fallback,
    description: `${description} (0 = any free port)`,
  });
const Optional = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

/**
 * Every setting of the process (CONTRACT §1). Each key is also an environment variable
 * (dataDir → FLEETGATE_DATA_DIR) and a `serve` flag (dataDir → --data-dir).
 */
export const ConfigSchema = Type.Object({
  dataDir: Type.String({
    minLength: 1,
    default: './data',
    description: 'SQLite database, archives, generated secrets',
  }),
  bind: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address every listener binds to' }),
  apiPort: Port(8080, 'management API, /health, /metrics, OpenAPI document'),
  deviceHttpPort: Port(8081, 'HTTP device API'),
  mqttPort: Port(1883, 'MQTT over TCP'),
  mqttsPort: Port(8883, 'MQTT over TLS'),
  deviceHttpsPort: Port(8443, 'HTTPS device API'),
  tlsCert: Optional('PEM certificate for MQTT over TLS and the HTTPS device API'),
  tlsKey: Optional('PEM private key matching tlsCert'),
  adminToken: Optional(
    'bearer token of the management API; generated and kept in the data directory when unset',
  ),
  databaseUrl: Optional('postgres:// URL selecting the PostgreSQL backend'),
  natsUrl: Optional('nats:// URL of the cluster to join'),
  eventHandler: Optional('path of an event handler module'),
  webhookUrl: Optional('URL receiving every event'),
  webhookSecret: Optional('secret signing webhook deliveries'),
  archiveDir: Optional('daily archive files (default: the archive folder of the data directory)'),
  restoreTimeout: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 30,
    description: 'seconds a restore URL may stay silent before its file fails',
  }),
});

export type Config = Static<typeof ConfigSchema>;
export type ConfigKey = keyof Config;

export const envName = (key: string) => `FLEETGATE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
export const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
