import { invalidParameter } from './errors.js';
import type { StateWrite } from './ports.js';
import type { ResourceValue } from './schemas/common.js';

// Shared by device publishes (DeviceService) and publishData: what arrived, made into checked values and state.

const DAY_MICROS = 86_400_000_000;
/** CONTRACT §2: client timestamps at most 1 day ahead and 10 years back. */
const MAX_FUTURE_MICROS = DAY_MICROS;
const MAX_PAST_MICROS = 3653 * DAY_MICROS;

/** Values arrive as text (MQTT, HTTP) or JSON (batches); objects are kept as their JSON text. */
export function toResourceValue(raw: unknown): ResourceValue {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return raw;
  return JSON.stringify(raw) ?? 'null';
}

/** The newest write of each resource (the state a batch of records leaves). */
export function newestPerResource(writes: StateWrite[]): StateWrite[] {
  const newest = new Map<string, StateWrite>();
  for (const write of writes) {
    const previous = newest.get(write.resource);
    if (!previous || previous.timestamp <= write.timestamp) newest.set(write.resource, write);
  }
  return [...newest.values()];
}

/** A client-supplied data timestamp (µs), within CONTRACT §2's limits around `now`. */
export function checkTimestamp(timestamp: number, now: number): number {
  if (!Number.isFinite(timestamp) || timestamp < 0)
    throw invalidParameter('timestamp', 'must be a positive number');
  if (timestamp > now + MAX_FUTURE_MICROS)
    throw invalidParameter('timestamp', 'is more than 1 day in the future');
  if (timestamp < now - MAX_PAST_MICROS)
    throw invalidParameter('timestamp', 'is more than 10 years in the past');
  return timestamp;
}
