import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../core/events.js';
import type { WebhookLaneProgress, WebhookRecord } from '../core/webhook-ports.js';
import { EventHandlerSessions } from './event-handler-sessions.js';
import { WebhookSubscriberSource } from './webhook-subscribers.js';

const T = 1_780_000_000_000_000;

const webhook = (id: string, overrides: Partial<WebhookRecord> = {}): WebhookRecord => ({
  id,
  url: `http://127.0.0.1:9/${id}`,
  secret: 'secret-0123456789',
  types: null,
  identities: null,
  source: 'api',
  createdAt: T,
  ...overrides,
});

const lane = (webhookId: string, overrides: Partial<WebhookLaneProgress> = {}): WebhookLaneProgress => ({
  webhookId,
  deliveredUntil: null,
  deliveredAt: null,
  pending: false,
  retrying: false,
  failed: 0,
  failedAt: null,
  ...overrides,
});

const dataIn = (identity: string, timestamps: number[]): GatewayEvent => ({
  type: 'data_in',
  identity,
  ip: null,
  protocol: 'mqtt',
  timestamp: T,
  connection_id: null,
  payload: timestamps.map((timestamp) => ({ timestamp, values: { temp: 1 } })),
});

describe('webhooks as signal subscribers', () => {
  it('lists a session per signal for each webhook whose filters let the identity’s data_in through', async () => {
    const source = new WebhookSubscriberSource({
      list: async () => [
        webhook('all'),
        webhook('data', { types: ['data_in'], identities: ['a'] }),
        webhook('other-type', { types: ['connect'] }),
        webhook('other-identity', { identities: ['b'] }),
      ],
      progress: async () => [
        lane('all', { deliveredUntil: T - 5, deliveredAt: T, failed: 2, failedAt: T + 9 }),
        lane('data', { pending: true, retrying: true }),
      ],
    });
    expect(await source.sessions('a', ['temp', 'hum'])).toEqual([
      {
        signal: 'temp',
        sessionId: 'webhook:all',
        sessionType: 'sync_to_cloud',
        subscriber: 'all',
        offset: T - 5,
        status: 'failed',
        lastUpdate: T + 9,
      },
      expect.objectContaining({ signal: 'hum', sessionId: 'webhook:all' }),
      {
        signal: 'temp',
        sessionId: 'webhook:data',
        sessionType: 'sync_to_cloud',
        subscriber: 'data',
        offset: null,
        status: 'retrying',
        lastUpdate: null,
      },
      expect.objectContaining({ signal: 'hum', sessionId: 'webhook:data' }),
    ]);
  });

  it('tells pending deliveries from none', async () => {
    const progress = [lane('w', { pending: true })];
    const source = new WebhookSubscriberSource({
      list: async () => [webhook('w')],
      progress: async () => progress,
    });
    expect((await source.sessions('a', ['temp']))[0]?.status).toBe('pending');
    progress[0] = lane('w', { deliveredUntil: T, deliveredAt: T });
    expect((await source.sessions('a', ['temp']))[0]).toMatchObject({ status: 'ok', offset: T });
  });
});

describe('the event handler as a signal subscriber', () => {
  it('moves its offset with the data_in events it handled, and shows failures and waiting events', async () => {
    let waiting = 0;
    let now = T;
    const sessions = new EventHandlerSessions({ waiting: () => Promise.resolve(waiting), now: () => now });
    expect(await sessions.sessions('a', ['temp'])).toEqual([
      {
        signal: 'temp',
        sessionId: 'event-handler',
        sessionType: 'script_async',
        subscriber: 'event-handler',
        offset: null,
        status: 'ok',
        lastUpdate: null,
      },
    ]);
    sessions.settled(dataIn('a', [T - 30, T - 10]), true);
    sessions.settled({ ...dataIn('a', []), type: 'connect' }, false);
    now += 1;
    sessions.settled(dataIn('a', [T - 20]), true);
    expect((await sessions.sessions('a', ['temp']))[0]).toMatchObject({
      offset: T - 10,
      status: 'ok',
      lastUpdate: T + 1,
    });
    sessions.settled(dataIn('a', [T]), false);
    expect((await sessions.sessions('a', ['temp']))[0]).toMatchObject({ offset: T - 10, status: 'failed' });
    waiting = 2;
    expect((await sessions.sessions('a', ['temp']))[0]?.status).toBe('pending');
    expect((await sessions.sessions('b', ['temp']))[0]).toMatchObject({ offset: null, status: 'pending' });
  });

  it('forgets the least recently handled identities beyond its bound', async () => {
    const sessions = new EventHandlerSessions({
      waiting: () => Promise.resolve(0),
      now: () => T,
      maxIdentities: 2,
    });
    for (const identity of ['a', 'b', 'c']) sessions.settled(dataIn(identity, [T]), true);
    const offsets = await Promise.all(
      ['a', 'b', 'c'].map(async (identity) => (await sessions.sessions(identity, ['x']))[0]?.offset),
    );
    expect(offsets).toEqual([null, T, T]);
  });
});
