import { toMicros } from '../core/clock.js';
import type { PublishRecord } from '../core/device-service.js';

/** What a device may publish (CONTRACT §3); anything else is refused. */
export type DeviceTopic =
  | { kind: 'provision'; identity: string }
  | { kind: 'resource'; alias: string }
  | { kind: 'batch' }
  | { kind: 'as'; identity: string; alias: string };

// Control characters are exactly what these refuse.
// eslint-disable-next-line no-control-regex
const ALIAS = /^[^.$/+#\u0000-\u001f\u007f]+$/;
// eslint-disable-next-line no-control-regex
const IDENTITY = /^[^/+#,\u0000-\u001f\u007f]+$/;

export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  if (topic === '$resource.batch') return { kind: 'batch' };
  if (topic.startsWith('$resource/')) {
    const alias = topic.slice('$resource/'.length);
    return ALIAS.test(alias) ? { kind: 'resource', alias } : undefined;
  }
  // "$provision" alone (or with an empty identity) asks the gateway to generate the identity.
  if (topic === '$provision' || topic === '$provision/') return { kind: 'provision', identity: '' };
  if (topic.startsWith('$provision/')) {
    const identity = topic.slice('$provision/'.length);
    return IDENTITY.test(identity) ? { kind: 'provision', identity } : undefined;
  }
  if (topic.startsWith('$as/')) {
    const rest = topic.slice('$as/'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return undefined;
    const identity = rest.slice(0, slash);
    const alias = rest.slice(slash + 1);
    return IDENTITY.test(identity) && ALIAS.test(alias) ? { kind: 'as', identity, alias } : undefined;
  }
  return undefined;
}

export class MalformedBatch extends Error {}

/**
 * `$resource.batch`: a JSON array of `{"timestamp": <s|ms|µs>, "values": {<alias>: <value>}}`.
 * Throws MalformedBatch naming the first problem.
 */
export function parseBatch(payload: Buffer): PublishRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new MalformedBatch('the payload is not JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new MalformedBatch('the payload is not a non-empty array');
  return parsed.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new MalformedBatch(`item ${i} is not an object`);
    const { timestamp, values } = item as { timestamp?: unknown; values?: unknown };
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0)
      throw new MalformedBatch(`item ${i}: timestamp is not a positive number`);
    if (typeof values !== 'object' || values === null || Array.isArray(values))
      throw new MalformedBatch(`item ${i}: values is not an object`);
    for (const alias of Object.keys(values)) {
      if (!ALIAS.test(alias) || alias === '__proto__')
        throw new MalformedBatch(`item ${i}: "${alias}" is not a resource alias`);
    }
    return { timestamp: toMicros(timestamp), values: values as Record<string, unknown> };
  });
}
