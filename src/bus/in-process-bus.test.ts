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

  it('says when every keeping subscriber has stored the events, and nothing when none waits', async () => {
    const bus = new InProcessBus(() => {});
    expect(bus.kept()).toBeUndefined();
    const settle: (() => void)[] = [];
    const waiting = () => new Promise<void>((resolve) => settle.push(resolve));
    let first: Promise<void> | undefined;
    let second: Promise<void> | undefined;
    const stopFirst = bus.subscribe(
      () => {},
      () => (first ??= waiting()),
    );
    bus.subscribe(
      () => {},
      () => (second ??= waiting()),
    );
    let done = false;
    void bus.kept()!.then(() => (done = true));
    settle[0]!();
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toBe(false);
    settle[1]!();
    await expect.poll(() => done).toBe(true);
    stopFirst();
    expect(bus.kept()).toBe(second);
  });
});
