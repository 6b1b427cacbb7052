import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GatewayEvent } from '../core/events.js';
import type { Device2WithAliases } from '../core/checked-device2.js';
import type { HandlerQueueStore } from '../core/handler-queue-ports.js';
import type { Store } from '../core/ports.js';
import { createSqliteStore } from '../storage/sqlite/sqlite-store.js';
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
const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function openStore(path = ':memory:'): Store {
  const store = createSqliteStore(path);
  stores.push(store);
  return store;
}

function start(
  handler: EventHandler,
  options: Partial<EventHandlerOptions> = {},
  queue: HandlerQueueStore = openStore().handlerQueue,
) {
  const source = new ManualSource();
  const log = new MemoryLog();
  const runner = new EventHandlerRunner(handler, device2, queue, log, options);
  runner.start(source);
  runners.push(runner);
  return { source, log, runner, queue };
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
    expect(runner.stats).toEqual({ handled: 1, failed: 0 });
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
    expect(runner.stats).toEqual({ handled: 1, failed: 2 });
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

  it('holds a bounded number of events in memory and handles the rest from the store, in order', async () => {
    const release = gate();
    const handled: string[] = [];
    const { source, runner, queue } = start(
      async (e) => {
        await release.opened;
        handled.push(label(e));
      },
      { maxInMemory: 4 },
    );
    for (let n = 0; n < 30; n++) source.publish(event(n % 2 ? 'b' : 'a', n));
    await source.kept();
    expect(await queue.count('a')).toBe(15);
    expect(await runner.waiting('a')).toBe(15);
    release.open();
    await vi.waitFor(() => expect(handled).toHaveLength(30));
    for (const identity of ['a', 'b']) {
      const mine = handled.filter((l) => l.startsWith(identity)).map((l) => Number(l.slice(1)));
      expect(mine).toEqual([...mine].sort((x, y) => x - y));
      expect(mine).toHaveLength(15);
    }
    await vi.waitFor(async () => expect(await queue.count('a')).toBe(0));
  });

  it('lets the publisher wait until its events are stored, and refuses when they cannot be', async () => {
    const store = openStore();
    let failAppend = false;
    const queue: HandlerQueueStore = {
      ...store.handlerQueue,
      append: (events) =>
        failAppend ? Promise.reject(new Error('disk full')) : store.handlerQueue.append(events),
    };
    const release = gate();
    const { source, log } = start(() => release.opened, {}, queue);
    source.publish(event('a', 1));
    const kept = source.kept();
    expect(await queue.count('a')).toBe(0);
    await kept;
    expect(await queue.count('a')).toBe(1);

    failAppend = true;
    source.publish(event('a', 2));
    await expect(source.kept()).rejects.toThrow('disk full');
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringContaining('could not queue events') as string,
      }),
    );
    release.open();
  });

  it('leaves what it has not handled at stop to the next start, which handles it first', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fleetgate-handler-queue-')), 'queue.db');
    const first = createSqliteStore(path);
    const release = gate();
    let finished = 0;
    const { source, runner } = start(
      async () => {
        await release.opened;
        finished++;
      },
      { stopWaitMs: 20 },
      first.handlerQueue,
    );
    source.publish(event('a', 1));
    source.publish(event('a', 2));
    source.publish(event('b', 3));
    await source.kept();
    await vi.waitFor(() => expect(runner.waiting('a')).resolves.toBe(2)); // a1 and b3 running
    await runner.stop(); // abandons the calls of a1 and b3, which never finish in time
    expect(finished).toBe(0);
    expect(source.subscribers).toBe(0);
    source.publish(event('a', 4)); // after stop: not taken
    await first.close();
    release.open();

    const handled: string[] = [];
    const { source: next } = start((e) => void handled.push(label(e)), {}, openStore(path).handlerQueue);
    next.publish(event('a', 5));
    await vi.waitFor(() => expect(handled).toHaveLength(4));
    expect(handled.filter((l) => l.startsWith('a'))).toEqual(['a1', 'a2', 'a5']);
    expect(handled).toContain('b3');
  });
});
