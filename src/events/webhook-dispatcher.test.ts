import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../core/clock.js';
import { createEventIds } from '../core/event-source.js';
import type { Store } from '../core/ports.js';
import type { WebhookRecord } from '../core/webhook-ports.js';
import { WebhookService } from '../core/webhook-service.js';
import { verifySignature } from '../core/webhook-signature.js';
import { createSqliteStore } from '../storage/sqlite/sqlite-store.js';
import { event, ManualSource, MemoryLog, ScriptedTransport } from './test-events.js';
import type { DeliveryOptions } from './webhook-delivery.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

const SECRET = 'secret-0123456789';
/** Retries after a few ms, so that a test sees several attempts quickly. */
const FAST: Partial<DeliveryOptions> = {
  concurrency: 4,
  timeoutMs: 1_000,
  retry: { maxAttempts: 3, firstDelayMs: 5, factor: 2, maxDelayMs: 20 },
};

interface Harness {
  store: Store;
  source: ManualSource;
  transport: ScriptedTransport;
  log: MemoryLog;
  dispatcher: WebhookDispatcher;
  service: WebhookService;
  add(id: string, overrides?: Partial<WebhookRecord>): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.dispatcher.stop();
    await h.store.close();
  }
});

async function harness(
  options: { path?: string; transport?: ScriptedTransport; delivery?: Partial<DeliveryOptions> } = {},
): Promise<Harness> {
  const store = createSqliteStore(options.path ?? ':memory:');
  const source = new ManualSource();
  const transport = options.transport ?? new ScriptedTransport();
  const log = new MemoryLog();
  const dispatcher = new WebhookDispatcher({
    source,
    ids: createEventIds(),
    store: store.webhooks,
    transport,
    clock: systemClock,
    log,
    options: { ...FAST, ...options.delivery },
  });
  const service = new WebhookService({ store: store.webhooks, control: dispatcher, clock: systemClock });
  await dispatcher.start();
  const h: Harness = {
    store,
    source,
    transport,
    log,
    dispatcher,
    service,
    async add(id, overrides = {}) {
      await store.webhooks.put({
        id,
        url: `http://receiver/${id}`,
        secret: SECRET,
        types: null,
        identities: null,
        source: 'api',
        createdAt: systemClock.nowMicros(),
        ...overrides,
      });
      await dispatcher.reload();
    },
  };
  open.push(h);
  return h;
}

const label = (e: { identity: string; timestamp: number }) => `${e.identity}${e.timestamp % 1000}`;

describe('webhook delivery', () => {
  it('posts each event, signed, to every webhook whose filters it passes', async () => {
    const h = await harness();
    await h.add('all');
    await h.add('deleted-only', { types: ['deleted'] });
    await h.add('b-only', { identities: ['b'] });
    h.source.publish(event('a', 1));
    h.source.publish(event('b', 2, 'deleted'));
    await vi.waitFor(() => expect(h.transport.delivered()).toHaveLength(4));
    expect(h.transport.delivered('http://receiver/all').map(label)).toEqual(['a1', 'b2']);
    expect(h.transport.delivered('http://receiver/deleted-only').map(label)).toEqual(['b2']);
    expect(h.transport.delivered('http://receiver/b-only').map(label)).toEqual(['b2']);
    for (const { request, event: sent } of h.transport.attempts) {
      expect(verifySignature(SECRET, request.body, request.headers['x-fleetgate-signature'])).toBe(true);
      expect(request.headers['x-fleetgate-event-type']).toBe(sent.type);
      expect(request.headers['x-fleetgate-attempt']).toBe('1');
    }
    const idsOfB2 = new Set(
      h.transport.attempts
        .filter((a) => a.event.identity === 'b')
        .map((a) => a.request.headers['x-fleetgate-event-id']),
    );
    expect(idsOfB2.size).toBe(1); // one event, one id, whatever the webhook
    expect(JSON.parse(h.transport.attempts[0]!.request.body)).toEqual(event('a', 1));
  });

  it('keeps each identity in order while a failing identity does not hold up the others', async () => {
    const h = await harness();
    let failuresLeft = 2;
    h.transport.answer = ({ event: e }) =>
      label(e) === 'a1' && failuresLeft-- > 0 ? { ok: false, error: 'HTTP 503' } : { ok: true };
    await h.add('w');
    for (let n = 1; n <= 3; n++) h.source.publish(event('a', n));
    for (let n = 4; n <= 6; n++) h.source.publish(event('b', n));
    await vi.waitFor(() => expect(h.transport.delivered()).toHaveLength(6));
    const attempted = h.transport.attempts.map((a) => label(a.event));
    expect(attempted.filter((l) => l.startsWith('a'))).toEqual(['a1', 'a1', 'a1', 'a2', 'a3']);
    expect(attempted.filter((l) => l.startsWith('b'))).toEqual(['b4', 'b5', 'b6']);
    // b's events went while a1 waited for its retries.
    expect(attempted.indexOf('b6')).toBeLessThan(attempted.lastIndexOf('a1'));
    const retried = h.transport.attempts.filter((a) => label(a.event) === 'a1');
    expect(retried.map((a) => a.request.headers['x-fleetgate-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(retried.map((a) => a.request.headers['x-fleetgate-event-id'])).size).toBe(1);
  });

  it('keeps a delivery out of attempts as failed, goes on with its identity, and delivers it on retry', async () => {
    const h = await harness();
    let receiverFixed = false;
    h.transport.answer = ({ event: e }) =>
      label(e) === 'a1' && !receiverFixed ? { ok: false, error: 'HTTP 500: broken' } : { ok: true };
    await h.add('w');
    h.source.publish(event('a', 1));
    h.source.publish(event('a', 2));
    await vi.waitFor(() => expect(h.transport.delivered().map(label)).toEqual(['a2']));
    const { deliveries } = await h.service.listFailed('w', {});
    expect(deliveries).toEqual([
      expect.objectContaining({ event: event('a', 1), attempts: 3, lastError: 'HTTP 500: broken' }),
    ]);
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringContaining('failed for good') as string,
      }),
    );
    receiverFixed = true;
    expect(await h.service.retryFailed('w', deliveries[0]!.id)).toBe(1);
    await vi.waitFor(() => expect(h.transport.delivered().map(label)).toEqual(['a2', 'a1']));
    expect(await h.store.webhooks.counts('w')).toEqual({ pending: 0, failed: 0 });
  });

  it('writes the events of one turn of the event loop to the outbox in one call', async () => {
    const h = await harness();
    h.transport.answer = () => 'hang';
    await h.add('w');
    const enqueue = vi.spyOn(h.store.webhooks, 'enqueue');
    for (let n = 0; n < 1000; n++) h.source.publish(event(`d${n % 50}`, n));
    await vi.waitFor(() => expect(enqueue).toHaveBeenCalled());
    expect(enqueue).toHaveBeenCalledTimes(1);
    expect(enqueue.mock.calls[0]![0]).toHaveLength(1000);
    await vi.waitFor(async () => expect((await h.store.webhooks.counts('w')).pending).toBe(1000));
  });

  it('lets the publisher wait until its events are in the outbox, and refuses when they cannot be', async () => {
    const h = await harness();
    h.transport.answer = () => 'hang';
    await h.add('w');
    h.source.publish(event('a', 1));
    const kept = h.source.kept();
    expect((await h.store.webhooks.counts('w')).pending).toBe(0);
    await kept;
    expect((await h.store.webhooks.counts('w')).pending).toBe(1);

    vi.spyOn(h.store.webhooks, 'enqueue').mockRejectedValueOnce(new Error('disk full'));
    h.source.publish(event('a', 2));
    await expect(h.source.kept()).rejects.toThrow('disk full');
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringContaining('could not queue webhook') as string,
      }),
    );
  });

  it('has at most `concurrency` attempts in flight per webhook, however many identities wait', async () => {
    const h = await harness({ delivery: { concurrency: 3 } });
    await h.add('w');
    for (let n = 0; n < 30; n++) h.source.publish(event(`d${n}`, n));
    await vi.waitFor(() => expect(h.transport.delivered()).toHaveLength(30));
    expect(h.transport.maxInFlight).toBe(3);
  });

  it('subscribes to events only while a webhook exists', async () => {
    const h = await harness();
    expect(h.source.subscribers).toBe(0);
    await h.add('w');
    expect(h.source.subscribers).toBe(1);
    await h.store.webhooks.remove('w');
    await h.dispatcher.reload();
    expect(h.source.subscribers).toBe(0);
  });

  it('writes the events already published when it stops, and delivers them after a restart', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fleetgate-webhooks-')), 'db');
    const first = await harness({ path, transport: new ScriptedTransport(() => 'hang') });
    await first.add('w');
    first.source.publish(event('a', 1));
    await vi.waitFor(() => expect(first.transport.attempts).toHaveLength(1));
    first.source.publish(event('a', 2)); // still in this turn's buffer: stop writes it
    open.splice(open.indexOf(first), 1);
    await first.dispatcher.stop();
    await first.store.close();

    const second = await harness({ path });
    await vi.waitFor(() => expect(second.transport.delivered().map(label)).toEqual(['a1', 'a2']));
    const [resent] = second.transport.attempts;
    // The interrupted attempt does not count: the delivery is simply made again.
    expect(resent!.request.headers['x-fleetgate-attempt']).toBe('1');
    expect(resent!.request.headers['x-fleetgate-event-id']).toBe(
      first.transport.attempts[0]!.request.headers['x-fleetgate-event-id'],
    );
  });
});
