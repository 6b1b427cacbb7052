import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GatewayEvent } from '../core/events.js';
import type { Device2WithAliases } from '../core/checked-device2.js';
import { EventHandlerRunner, type EventHandler, type EventHandlerOptions } from './event-handler-runner.js';
import { event, ManualSource, MemoryLog } from './test-events.js';

const device2 = { listTagNames: () => Promise.resolve(['site']) } as unknown as Device2WithAliases;
const label = (e: GatewayEvent) => `${e.identity}${e.timestamp % 1000}`;

/** A promise the test resolves by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const runners: EventHandlerRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

function start(handler: EventHandler, options: Partial<EventHandlerOptions> = {}) {
  const source = new ManualSource();
  const log = new MemoryLog();
  const runner = new EventHandlerRunner(handler, device2, log, options);
  runner.start(source);
  runners.push(runner);
  return { source, log, runner };
}

describe('the event handler runner', () => {
  it('hands every event and the device2 API to the handler, never inside the publisher call', async () => {
    const seen: string[] = [];
    const { source, runner } = start(async (e, api) => {
      seen.push(`${label(e)}:${(await api.listTagNames({})).join()}`);
    });
    source.publish(event('a', 1));
    expect(seen).toEqual([]);
    await vi.waitFor(() => expect(seen).toEqual(['a1:site']));
    expect(runner.stats).toEqual({ handled: 1, failed: 0, dropped: 0 });
  });

  it('runs one call at a time per identity, in order, and several identities at once up to the bound', async () => {
    const running = new Map<string, number>();
    const overlaps: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const order: string[] = [];
    const release = gate();
    const { source } = start(
      async (e) => {
        running.set(e.identity, (running.get(e.identity) ?? 0) + 1);
        if (running.get(e.identity) !== 1) overlaps.push(label(e));
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await release.opened;
        order.push(label(e));
        concurrent--;
        running.set(e.identity, running.get(e.identity)! - 1);
      },
      { concurrency: 3 },
    );
    for (let n = 0; n < 20; n++) source.publish(event(`d${n % 5}`, n));
    await vi.waitFor(() => expect(concurrent).toBe(3));
    release.open();
    await vi.waitFor(() => expect(order).toHaveLength(20));
    expect(maxConcurrent).toBe(3);
    expect(overlaps).toEqual([]);
    for (let d = 0; d < 5; d++) {
      const mine = order.filter((l) => l.startsWith(`d${d}`));
      expect(mine).toEqual([...mine].sort((x, y) => Number(x.slice(2)) - Number(y.slice(2))));
    }
  });

  it('logs a handler that throws or rejects and goes on with the next events', async () => {
    const handled: string[] = [];
    const { source, log, runner } = start((e) => {
      if (e.timestamp % 1000 === 1) throw new Error('thrown');
      if (e.timestamp % 1000 === 2) return Promise.reject(new Error('rejected'));
      handled.push(label(e));
      return undefined;
    });
    for (let n = 1; n <= 3; n++) source.publish(event('a', n));
    await vi.waitFor(() => expect(handled).toEqual(['a3']));
    expect(runner.stats).toEqual({ handled: 1, failed: 2, dropped: 0 });
    expect(
      log.entries.filter((e) => e.level === 'error').map((e) => (e.details as { err: Error }).err.message),
    ).toEqual(['thrown', 'rejected']);
  });

  it('lets the next event of an identity go once a call overruns its time', async () => {
    const handled: string[] = [];
    const { source, log } = start(
      (e) => {
        if (e.timestamp % 1000 === 1) return new Promise(() => {}); // never settles
        handled.push(label(e));
        return undefined;
      },
      { timeoutMs: 20 },
    );
    source.publish(event('a', 1));
    source.publish(event('a', 2));
    await vi.waitFor(() => expect(handled).toEqual(['a2']));
    expect(log.entries).toContainEqual(
      expect.objectContaining({ message: expect.stringContaining('did not finish in time') as string }),
    );
  });

  it('drops and counts the events beyond its queue bound, and says so in the log', async () => {
    const release = gate();
    const { source, log, runner } = start(() => release.opened, { maxQueued: 3 });
    for (let n = 0; n < 10; n++) source.publish(event('a', n));
    expect(runner.stats.dropped).toBe(7);
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'event handler queue full: events dropped' }),
    );
    release.open();
    await vi.waitFor(() => expect(runner.stats.handled).toBe(3));
  });

  it('stops taking events at stop, drops the queued ones and waits for the running call', async () => {
    const release = gate();
    let finished = 0;
    const { source, runner } = start(async () => {
      await release.opened;
      finished++;
    });
    source.publish(event('a', 1));
    source.publish(event('a', 2));
    await new Promise((resolve) => setImmediate(resolve)); // the first call starts
    const stopped = runner.stop();
    release.open();
    await stopped;
    expect(finished).toBe(1);
    expect(runner.stats.dropped).toBe(1);
    expect(source.subscribers).toBe(0);
    source.publish(event('a', 3));
    expect(runner.stats.dropped).toBe(1);
  });
});
