import type { Sample } from './device-ports.js';
import { invalidParameter } from './errors.js';
import type { StateWrite } from './ports.js';
import { conformValue, MAX_STRING_VALUE_BYTES } from './resource-values.js';
import type { ResourceValue } from './schemas/common.js';
import type { ResourceDefinition } from './schemas/resource.js';
import type { ParserInput } from './signal-parser.js';

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

/** Where checked values go: the samples and state to write, and the signal parser's inputs. */
export interface ValueSink {
  samples: Sample[];
  state: StateWrite[];
  /** The data_in and config_io values, for the signal parser. */
  parserInputs: ParserInput[] | undefined;
}

/** A checked value of a defined resource: its sample, its state, and its signal parser input. */
export function addResourceValue(
  into: ValueSink,
  alias: string,
  definition: ResourceDefinition,
  value: ResourceValue,
  timestamp: number,
): void {
  into.samples.push({
    signal: alias,
    resource: alias,
    retention: Number(definition.retention),
    timestamp,
    value,
  });
  into.state.push({ resource: alias, set: value, reported: value, timestamp });
  if (alias === 'data_in' || alias === 'config_io')
    (into.parserInputs ??= []).push({ resource: alias, value, timestamp });
}

/** What a device's publish holds: for the store, for its data_in, for the signal parser. */
export interface CollectedValues extends ValueSink {
  /** Empty when nobody listens to events. */
  payload: { timestamp: number; values: Record<string, ResourceValue> }[];
  valueCount: number;
}

/** One value a device sent to one alias, now (`$resource/<alias>`): the most frequent publish. */
export interface SingleValue {
  alias: string;
  value: string;
}

/** Timestamped groups of values (`timestamp` in µs, absent for "now"): batches and HTTP writes. */
type Records = readonly { timestamp?: number; values: Record<string, unknown> }[];

/** What a device published: records, or one value. */
export type PublishContent = Records | SingleValue;

/**
 * Checks a publish against the resource definitions and makes it samples and state. This is the
 * hot path (over 100,000 publishes a second): a single value skips the records' loops, and the
 * event's payload is only built when someone listens.
 */
export function collectValues(
  content: PublishContent,
  definitions: Record<string, ResourceDefinition>,
  now: number,
  listened: boolean,
): CollectedValues {
  const collected: CollectedValues = {
    samples: [],
    state: [],
    parserInputs: undefined,
    payload: [],
    valueCount: 0,
  };
  if (!isRecords(content)) {
    addValue(
      collected,
      content.alias,
      content.value,
      definitions,
      now,
      payloadRecord(collected, now, listened),
    );
    return collected;
  }
  for (const record of content) {
    const timestamp = record.timestamp === undefined ? now : checkTimestamp(record.timestamp, now);
    const values = payloadRecord(collected, timestamp, listened);
    for (const alias in record.values)
      addValue(collected, alias, toResourceValue(record.values[alias]), definitions, timestamp, values);
  }
  return collected;
}

export function isRecords(content: PublishContent): content is Records {
  return Array.isArray(content);
}

/** The values of a new record of the event's payload, when someone listens. */
function payloadRecord(
  collected: CollectedValues,
  timestamp: number,
  listened: boolean,
): Record<string, ResourceValue> | undefined {
  if (!listened) return undefined;
  const values: Record<string, ResourceValue> = {};
  collected.payload.push({ timestamp, values });
  return values;
}

/** One value of a publish, checked against its alias's definition when it has one; `values` is its payload record. */
function addValue(
  collected: CollectedValues,
  alias: string,
  raw: ResourceValue,
  definitions: Record<string, ResourceDefinition>,
  timestamp: number,
  values: Record<string, ResourceValue> | undefined,
): void {
  // As a key of the event payload it would replace the object's prototype.
  if (alias === '__proto__') throw invalidParameter(alias, 'is not a resource alias');
  const definition = Object.hasOwn(definitions, alias) ? definitions[alias] : undefined;
  collected.valueCount++;
  if (!definition) {
    // Values of undefined aliases still travel in events: the same 64 KiB bound applies.
    if (
      typeof raw === 'string' &&
      raw.length > MAX_STRING_VALUE_BYTES / 4 &&
      Buffer.byteLength(raw) > MAX_STRING_VALUE_BYTES
    )
      throw invalidParameter(alias, `values are limited to ${MAX_STRING_VALUE_BYTES} bytes`);
    if (values) values[alias] = raw;
    return;
  }
  const value = conformValue(definition, raw, alias);
  if (values) values[alias] = value;
  addResourceValue(collected, alias, definition, value, timestamp);
}
