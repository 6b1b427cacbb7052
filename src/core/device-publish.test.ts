import { describe, expect, it } from 'vitest';
import { DevicePublish, type DevicePublishDeps } from './device-publish.js';
import type { DeviceWrite, WriteOutcome } from './device-ports.js';
import type { GatewayEvent } from './events.js';
import type { ResourceCatalog } from './resource-catalog.js';
import type { ResourceDefinition } from './schemas/resource.js';

const T0 = 1_790_000_000_000_000;
const TEMP = {
  format: 'number',
  retention: '12',
  sync: false,
  settable: false,
} as unknown as ResourceDefinition;

/** A publish of d1 with an ingest store the test answers by hand, and what the publish told. */
function publishOf(value: string, options: { kept?: () => Promise<void>; onCommitted?: () => void } = {}) {
  const writes: { write: DeviceWrite; answer: (outcome: WriteOutcome) => void }[] = [];
  const events: GatewayEvent[] = [];
  const errors: string[] = [];
  const answers: (Error | undefined)[] = [];
  let ended = 0;
  const deps: DevicePublishDeps = {
    ingest: { write: (write, answer) => writes.push({ write, answer }) },
    resources: { current: () => ({ temp: TEMP }) } as unknown as ResourceCatalog,
    events: {
      publish: (event) => events.push(event),
      listened: () => true,
      kept: () => options.kept?.(),
    },
    activity: {
      record: (_metric, _identity, _value, reason) => errors.push(reason ?? ''),
      recordPublish() {},
    },
    onCommitted: options.onCommitted,
    stamp: () => T0,
    checkPublishAs: () => Promise.resolve(),
    ended: () => ended++,
  };
  const device = { identity: 'd1', permission: {} };
  const ctx = { ip: '10.0.0.1', protocol: 'mqtt' as const, connectionId: 'c1' };
  new DevicePublish(deps, device, ctx, { alias: 'temp', value }, value.length, 'd1', (error) =>
    answers.push(error),
  ).run();
  return { writes, events, errors, answers, ended: () => ended };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('a device publish', () => {
  it('is answered once its write is durable, after its data_in', () => {
    const publish = publishOf('21.5');
    expect(publish.writes.map(({ write }) => write.samples)).toEqual([
      [{ signal: 'temp', resource: 'temp', retention: 12, timestamp: T0, value: 21.5 }],
    ]);
    expect(publish.answers).toEqual([]);
    publish.writes[0]!.answer(true);
    expect(publish.events).toMatchObject([{ type: 'data_in', updated_resources: ['temp'] }]);
    expect(publish.answers).toEqual([undefined]);
    expect(publish.ended()).toBe(1);
  });

  it('is refused without a write when its value does not fit the definition', () => {
    const publish = publishOf('warm');
    expect(publish.writes).toEqual([]);
    expect(publish.answers).toMatchObject([{ code: 'INVALID_PARAMETER' }]);
    expect(publish.errors).toEqual(['invalid_value']);
  });

  it('is refused when its commit failed, or its identity is gone', () => {
    const failed = publishOf('1');
    failed.writes[0]!.answer(new Error('disk I/O error'));
    expect(failed.answers).toEqual([new Error('disk I/O error')]);
    expect(failed.errors).toEqual(['internal_error']);
    const gone = publishOf('1');
    gone.writes[0]!.answer(false);
    expect(gone.answers).toMatchObject([{ code: 'NOT_FOUND' }]);
  });

  it('is answered once, with the error, when telling of a stored write throws', () => {
    const publish = publishOf('1', {
      onCommitted() {
        throw new Error('a subscriber failed');
      },
    });
    publish.writes[0]!.answer(true);
    expect(publish.answers).toEqual([new Error('a subscriber failed')]);
    expect(publish.ended()).toBe(1);
  });

  it('waits for its data_in to be kept, and is refused when it cannot be', async () => {
    let keep!: () => void;
    const kept = publishOf('1', { kept: () => new Promise<void>((resolve) => (keep = resolve)) });
    kept.writes[0]!.answer(true);
    await settle();
    expect(kept.answers).toEqual([]);
    keep();
    await settle();
    expect(kept.answers).toEqual([undefined]);

    const lost = publishOf('1', { kept: () => Promise.reject(new Error('outbox full')) });
    lost.writes[0]!.answer(true);
    await settle();
    expect(lost.answers).toEqual([new Error('outbox full')]);
    expect(lost.ended()).toBe(1);
  });
});
