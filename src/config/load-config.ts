import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { MIN_WEBHOOK_SECRET_LENGTH } from '../core/schemas/webhook.js';
import { webhookUrlProblem } from '../core/webhook-service.js';
import { ConfigSchema, envName, flagName, type Config, type ConfigKey } from './config-schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const keys = Object.keys(ConfigSchema.properties) as ConfigKey[];
const numericKeys = new Set(keys.filter((k) => ConfigSchema.properties[k].type === 'integer'));
const byFlag = new Map(keys.map((k) => [flagName(k), k]));
const label = (key: string) => `${envName(key)} (${flagName(key)})`;

/** Settings whose subsystem has not landed in this build: refusing beats silently ignoring them. */
const NOT_YET_SUPPORTED: Partial<Record<ConfigKey, string>> = {
  databaseUrl: 'the PostgreSQL backend is not part of this build yet',
  natsUrl: 'clustering over NATS is not part of this build yet',
};

function parseFlags(argv: string[], raw: Record<string, string>, problems: string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = byFlag.get(flag);
    if (!key) {
      problems.push(`unknown ${arg.startsWith('-') ? 'flag' : 'argument'} ${flag}`);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) problems.push(`${flag} needs a value`);
    else raw[key] = value;
  }
}

function checkUrl(config: Config, key: ConfigKey, protocols: string[], problems: string[]): void {
  const value = config[key];
  if (value === undefined) return;
  try {
    const url = new URL(String(value));
    if (!protocols.includes(url.protocol))
      problems.push(`${label(key)}: must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`);
  } catch {
    problems.push(`${label(key)}: is not a valid URL`);
  }
}

/**
 * Deliveries are always signed (CONTRACT §4): a webhook URL without a secret is refused, as
 * anyone who learnt the URL could otherwise post forged events to the receiver.
 */
function checkWebhook(config: Config, problems: string[]): void {
  const { webhookUrl, webhookSecret } = config;
  if (webhookUrl !== undefined) {
    const problem = webhookUrlProblem(webhookUrl);
    if (problem) problems.push(`${label('webhookUrl')}: ${problem}`);
    if (webhookSecret === undefined)
      problems.push(
        `${label('webhookSecret')}: required with ${label('webhookUrl')} (deliveries are signed)`,
      );
  } else if (webhookSecret !== undefined) {
    problems.push(`${label('webhookSecret')}: only meaningful with ${label('webhookUrl')}`);
  }
  if (webhookSecret !== undefined && webhookSecret.length < MIN_WEBHOOK_SECRET_LENGTH)
    problems.push(`${label('webhookSecret')}: must have at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`);
}

function checkReadable(config: Config, key: ConfigKey, problems: string[]): void {
  const path = config[key];
  if (path === undefined) return;
  try {
    accessSync(String(path), constants.R_OK);
  } catch {
    problems.push(`${label(key)}: cannot read ${String(path)}`);
  }
}

/**
 * Reads the configuration from the environment and `serve` flags (flags win), applies defaults,
 * and validates it, reporting every problem at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv, argv: string[] = []): Config {
  const problems: string[] = [];
  const raw: Record<string, string> = {};
  for (const key of keys) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  parseFlags(argv, raw, problems);

  const candidate: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!numericKeys.has(key as ConfigKey)) candidate[key] = value;
    else if (/^\d+$/.test(value.trim())) candidate[key] = Number(value);
    else if (key.endsWith('Port'))
      problems.push(`${label(key)}: must be a port number from 0 to 65535, got "${value}"`);
    else problems.push(`${label(key)}: must be a whole number, got "${value}"`);
  }
  const config = Value.Default(ConfigSchema, candidate) as Config;
  for (const error of Value.Errors(ConfigSchema, config)) {
    const key = error.path.slice(1);
    problems.push(`${label(key)}: ${error.message.toLowerCase()}`);
  }
  if (!isIP(config.bind) && config.bind !== 'localhost')
    problems.push(`${label('bind')}: must be an IP address`);
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    problems.push(`${label('tlsCert')} and ${label('tlsKey')}: set both or neither`);
  }
  checkReadable(config, 'tlsCert', problems);
  checkReadable(config, 'tlsKey', problems);
  checkReadable(config, 'eventHandler', problems);
  checkUrl(config, 'databaseUrl', ['postgres:', 'postgresql:'], problems);
  checkUrl(config, 'natsUrl', ['nats:', 'tls:'], problems);
  checkWebhook(config, problems);
  for (const [key, reason] of Object.entries(NOT_YET_SUPPORTED)) {
    if (config[key as ConfigKey] !== undefined) problems.push(`${label(key)}: ${reason}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
