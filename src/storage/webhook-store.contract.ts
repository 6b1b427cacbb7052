import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../core/ports.js';
import type { NewDelivery, WebhookRecord } from '../core/webhook-ports.js';
import { NOW } from './contract-fixtures.js';

const SECOND = 1_000_000;

const webhook = (id: string, overrides: Partial<WebhookRecord> = {}): WebhookRecord => ({
  id,
  url: `http://127.0.0.1:9/${id}`,
  secret: 'secret-0123456789',
  types: null,
  identities: null,
  source: 'api',
  createdAt: NOW,
  ...overrides,
});

const delivery = (webhookId: string, identity: string, n: number): NewDelivery => ({
  webhookId,
  identity,
  eventId: `${identity}-${n}`,
  body: JSON.stringify({ type: 'data_in', identity, n }),
  createdAt: NOW + n,
});

/** The webhook port's part of the storage contract (see store.contract.ts). */
export function describeWebhookStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} store contract: webhooks`, () => {
    let store: Store;
    const eventIds = async (webhookId: string, now = NOW + 100 * SECOND, busy: string[] = []) =>
      (await store.webhooks.due(webhookId, now, busy, 100)).map((d) => d.eventId);

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('keeps webhooks with their filters, replaces settings by id, and removes them', async () => {
      await store.webhooks.put(webhook('w1', { types: ['data_in', 'deleted'], identities: ['a'] }));
      await store.webhooks.put(webhook('w2', { createdAt: NOW + 1 }));
      expect(await store.webhooks.get('w1')).toEqual(
        webhook('w1', { types: ['data_in', 'deleted'], identities: ['a'] }),
      );
      await store.webhooks.put(webhook('w2', { url: 'https://example.com/x', secret: 'another-secret-xyz' }));
      expect(await store.webhooks.list()).toEqual([
        webhook('w1', { types: ['data_in', 'deleted'], identities: ['a'] }),
        webhook('w2', { url: 'https://example.com/x', secret: 'another-secret-xyz', createdAt: NOW + 1 }),
      ]);
      expect(await store.webhooks.remove('w1')).toBe(true);
      expect(await store.webhooks.remove('w1')).toBe(false);
      expect(await store.webhooks.get('w1')).toBeUndefined();
    });

    it('queues deliveries in order per lane and offers the first of each lane, skipping busy lanes', async () => {
      await store.webhooks.put(webhook('w1'));
      const queued = await store.webhooks.enqueue([
        delivery('w1', 'a', 1),
        delivery('w1', 'b', 2),
        delivery('gone', 'a', 3),
        delivery('w1', 'a', 4),
      ]);
      expect(queued).toBe(3);
      expect(await store.webhooks.counts('w1')).toEqual({ pending: 3, failed: 0 });
      expect(await eventIds('w1')).toEqual(['a-1', 'b-2']);
      expect(await eventIds('w1', NOW + 100 * SECOND, ['a'])).toEqual(['b-2']);
      expect(await eventIds('w1', NOW)).toEqual([]); // nothing is due before it was queued
      expect(await store.webhooks.nextDue('w1', [])).toBe(NOW + 1);
      expect(await store.webhooks.nextDue('w1', ['a'])).toBe(NOW + 2);
      expect(await store.webhooks.nextDue('w1', ['a', 'b'])).toBeUndefined();
    });

    it('moves a lane on once its first delivery is delivered, and ends it when it is empty', async () => {
      await store.webhooks.put(webhook('w1'));
      await store.webhooks.enqueue([delivery('w1', 'a', 1), delivery('w1', 'a', 2)]);
      let [first] = await store.webhooks.due('w1', NOW + SECOND, [], 10);
      await store.webhooks.delivered(first!, NOW + SECOND);
      expect(await eventIds('w1')).toEqual(['a-2']);
      [first] = await store.webhooks.due('w1', NOW + SECOND, [], 10);
      await store.webhooks.delivered(first!, NOW + SECOND);
      expect(await eventIds('w1')).toEqual([]);
      expect(await store.webhooks.nextDue('w1', [])).toBeUndefined();
      expect(await store.webhooks.counts('w1')).toEqual({ pending: 0, failed: 0 });
    });

    it('holds a lane back after a failed attempt, counting attempts, while other lanes go on', async () => {
      await store.webhooks.put(webhook('w1'));
      await store.webhooks.enqueue([delivery('w1', 'a', 1), delivery('w1', 'a', 2), delivery('w1', 'b', 3)]);
      const [a1] = await store.webhooks.due('w1', NOW + SECOND, [], 1);
      expect(a1).toMatchObject({ eventId: 'a-1', attempts: 0 });
      await store.webhooks.postpone(a1!, 1, 'HTTP 500', NOW + 60 * SECOND);
      expect(await eventIds('w1', NOW + 2 * SECOND)).toEqual(['b-3']);
      expect(await store.webhooks.due('w1', NOW + 60 * SECOND, ['b'], 10)).toEqual([
        expect.objectContaining({ eventId: 'a-1', attempts: 1 }),
      ]);
    });

    it('moves a delivery out of attempts to the failed list, unblocking its lane', async () => {
      await store.webhooks.put(webhook('w1'));
      await store.webhooks.enqueue([delivery('w1', 'a', 1), delivery('w1', 'a', 2)]);
      const [a1] = await store.webhooks.due('w1', NOW + SECOND, [], 1);
      await store.webhooks.fail(a1!, 8, 'HTTP 503: down', NOW + 2 * SECOND);
      expect(await eventIds('w1', NOW + 2 * SECOND)).toEqual(['a-2']);
      const failed = await store.webhooks.listFailed('w1', 0, 10);
      expect(failed).toEqual([
        {
          id: expect.any(Number) as number,
          ...delivery('w1', 'a', 1),
          attempts: 8,
          lastError: 'HTTP 503: down',
          failedAt: NOW + 2 * SECOND,
        },
      ]);
      expect(await store.webhooks.listFailed('w1', failed[0]!.id, 10)).toEqual([]);
      expect(await store.webhooks.counts('w1')).toEqual({ pending: 1, failed: 1 });
    });

    it('requeues failed deliveries at the end of their lanes with attempts reset, or discards them', async () => {
      await store.webhooks.put(webhook('w1'));
      await store.webhooks.enqueue([delivery('w1', 'a', 1), delivery('w1', 'a', 2), delivery('w1', 'b', 3)]);
      for (const d of await store.webhooks.due('w1', NOW + SECOND, [], 10))
        await store.webhooks.fail(d, 8, 'timeout', NOW + SECOND);
      const [a1, b3] = await store.webhooks.listFailed('w1', 0, 10);
      expect(await store.webhooks.requeueFailed('w1', a1!.id, NOW + 5 * SECOND)).toBe(1);
      expect(await store.webhooks.requeueFailed('w1', a1!.id, NOW + 5 * SECOND)).toBe(0);
      const [a2] = await store.webhooks.due('w1', NOW + 5 * SECOND, [], 10);
      expect(a2).toMatchObject({ eventId: 'a-2' });
      await store.webhooks.delivered(a2!, NOW + 6 * SECOND);
      expect(await store.webhooks.due('w1', NOW + 6 * SECOND, [], 10)).toEqual([
        expect.objectContaining({ eventId: 'a-1', attempts: 0, body: delivery('w1', 'a', 1).body }),
      ]);
      expect(await store.webhooks.discardFailed('w1', b3!.id)).toBe(1);
      expect(await store.webhooks.discardFailed('w1', b3!.id)).toBe(0);
      expect(await store.webhooks.counts('w1')).toEqual({ pending: 1, failed: 0 });
    });

    it('retries or discards every failed delivery of one webhook at once, and no other', async () => {
      await store.webhooks.put(webhook('w1'));
      await store.webhooks.put(webhook('w2'));
      await store.webhooks.enqueue([delivery('w1', 'a', 1), delivery('w1', 'b', 2), delivery('w2', 'a', 3)]);
      for (const id of ['w1', 'w2'])
        for (const d of await store.webhooks.due(id, NOW + SECOND, [], 10))
          await store.webhooks.fail(d, 8, 'timeout', NOW + SECOND);
      expect(await store.webhooks.requeueFailed('w1', undefined, NOW + 2 * SECOND)).toBe(2);
      expect(await eventIds('w1')).toEqual(['a-1', 'b-2']);
      expect(await store.webhooks.discardFailed('w2', undefined)).toBe(1);
      expect(await store.webhooks.counts('w2')).toEqual({ pending: 0, failed: 0 });
    });

    it('tells, per webhook, how far the data_in events of an identity got, and whether some wait or failed', async () => {
      await store.webhooks.put(webhook('w1'));
      await store.webhooks.put(webhook('w2', { createdAt: NOW + 1 }));
      const dataIn = (webhookId: string, n: number, timestamps: number[]): NewDelivery => ({
        ...delivery(webhookId, 'a', n),
        body: JSON.stringify({
          type: 'data_in',
          identity: 'a',
          payload: timestamps.map((timestamp) => ({ timestamp, values: { temp: n } })),
        }),
      });
      const fresh = {
        deliveredUntil: null,
        deliveredAt: null,
        pending: false,
        retrying: false,
        failed: 0,
        failedAt: null,
      };
      expect(await store.webhooks.progress('a')).toEqual([
        { webhookId: 'w1', ...fresh },
        { webhookId: 'w2', ...fresh },
      ]);
      await store.webhooks.enqueue([
        dataIn('w1', 1, [NOW - 5 * SECOND, NOW - 9 * SECOND]),
        delivery('w1', 'a', 2), // not a data_in: it moves nothing
        dataIn('w1', 3, [NOW - 7 * SECOND]), // older data than already delivered
        dataIn('w2', 4, [NOW - 3 * SECOND]),
      ]);
      for (const at of [2, 3, 4]) {
        const [head] = await store.webhooks.due('w1', NOW + at * SECOND, [], 1);
        await store.webhooks.delivered(head!, NOW + at * SECOND);
      }
      const [w2] = await store.webhooks.due('w2', NOW + SECOND, [], 1);
      await store.webhooks.postpone(w2!, 1, 'HTTP 500', NOW + 60 * SECOND);
      expect(await store.webhooks.progress('a')).toEqual([
        { ...fresh, webhookId: 'w1', deliveredUntil: NOW - 5 * SECOND, deliveredAt: NOW + 4 * SECOND },
        { ...fresh, webhookId: 'w2', pending: true, retrying: true },
      ]);
      await store.webhooks.fail(w2!, 8, 'HTTP 500', NOW + 70 * SECOND);
      expect((await store.webhooks.progress('a'))[1]).toEqual({
        ...fresh,
        webhookId: 'w2',
        failed: 1,
        failedAt: NOW + 70 * SECOND,
      });
      expect(await store.webhooks.progress('b')).toEqual([
        { webhookId: 'w1', ...fresh },
        { webhookId: 'w2', ...fresh },
      ]);
    });

    it('removes the deliveries of a removed webhook, pending and failed', async () => {
      await store.webhooks.put(webhook('w1'));
      await store.webhooks.enqueue([delivery('w1', 'a', 1), delivery('w1', 'b', 2)]);
      const [a1] = await store.webhooks.due('w1', NOW + SECOND, [], 1);
      await store.webhooks.fail(a1!, 8, 'timeout', NOW + SECOND);
      await store.webhooks.remove('w1');
      await store.webhooks.put(webhook('w1'));
      expect(await store.webhooks.counts('w1')).toEqual({ pending: 0, failed: 0 });
      expect(await eventIds('w1')).toEqual([]);
    });
  });
}
