import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../core/events.js';
import { InProcessBus } from './in-process-bus.js';

const event: GatewayEvent = {
  type: 'deleted',
  identity: 'a',
  ip: null,
  protocol: 'api',
  timestamp: 1,
  connection_id: null,
};

describe('in-process bus', () => {
  it('delivers every event to every subscriber until it unsubscribes', () => {
    const bus = new InProcessBus(() => {});
    const seen: string[] = [];
    const stop = bus.subscribe((e) => seen.push(`1:${e.identity}`));
    bus.subscribe((e) => seen.push(`2:${e.identity}`));
    bus.publish(event);
    stop();
    bus.publish({ ...event, identity: 'b' });
    expect(seen).toEqual(['1:a', '2:a', '2:b']);
  });

  it('reports a failing subscriber and still delivers to the others', () => {
    const failures: unknown[] = [];
    const bus = new InProcessBus((error) => failures.push(error));
    const seen: GatewayEvent[] = [];
    bus.subscribe(() => {
      throw new Error('boom');
    });
    bus.subscribe((e) => seen.push(e));
    bus.publish(event);
    expect(seen).toEqual([event]);
    expect(failures).toHaveLength(1);
  });
});
