import { envName, flagName, type ConfigKey } from './config-schema.js';

/** A listener that could not start; the message names the setting at fault. */
export class ListenerError extends Error {}

/** The error of a port that could not be bound, naming its setting. */
export function bindError(error: unknown, key: ConfigKey, port: number, host: string): ListenerError {
  const reason =
    (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? 'is in use'
      : `cannot be bound (${(error as Error).message})`;
  return new ListenerError(`${envName(key)} (${flagName(key)}): port ${port} on ${host} ${reason}`);
}
