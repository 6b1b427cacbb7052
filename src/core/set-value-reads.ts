import type { DeviceConnections, SetValue } from './device-connections.js';
import { identityNotFound } from './errors.js';
import type { IdentityStore } from './ports.js';
import type { ResourceValue } from './schemas/common.js';

/** The set values of the given aliases (HTTP read); aliases without one are left out. */
export async function readSetValues(
  identities: IdentityStore,
  identity: string,
  aliases: string[],
): Promise<Record<string, ResourceValue>> {
  const record = await identities.get(identity);
  if (!record) throw identityNotFound(identity);
  const values: Record<string, ResourceValue> = {};
  for (const alias of aliases) {
    const entry = Object.hasOwn(record.state, alias) ? record.state[alias] : undefined;
    if (entry?.set !== undefined) values[alias] = entry.set;
  }
  return values;
}

/** HTTP long-poll (DeviceService.waitForSet). */
export async function waitForSetValue(
  deps: { identities: IdentityStore; connections: DeviceConnections },
  poll: {
    identity: string;
    alias: string;
    sinceMicros: number;
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    closeMark?: number | undefined;
  },
): Promise<SetValue | undefined> {
  const { identity, alias, sinceMicros, timeoutMs, signal, closeMark } = poll;
  if (deps.connections.closedSince(identity, closeMark)) return undefined;
  // Subscribe before reading, so a change between the two is not missed.
  const answered = new AbortController();
  const next = deps.connections.waitForSet(
    identity,
    alias,
    timeoutMs,
    signal ? AbortSignal.any([signal, answered.signal]) : answered.signal,
    closeMark,
  );
  const record = await deps.identities.get(identity);
  if (!record) {
    answered.abort();
    throw identityNotFound(identity);
  }
  const entry = Object.hasOwn(record.state, alias) ? record.state[alias] : undefined;
  if (entry?.set !== undefined && entry.timestamp > sinceMicros) {
    answered.abort();
    return { alias, value: entry.set, timestamp: entry.timestamp };
  }
  return next;
}
