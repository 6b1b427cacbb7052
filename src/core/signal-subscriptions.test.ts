import { describe, expect, it } from 'vitest';
import type { Sample } from './device-ports.js';
import type { IdentityPermission } from './schemas/identity.js';
import { SignalSubscriptions, type SignalDelivery, type SignalSession } from './signal-subscriptions.js';

const T = 1_780_000_000_000_000;

function setup(permissions: Record<string, IdentityPermission> = {}) {
  let now = T;
  const subscriptions = new SignalSubscriptions({
    permission: async (identity) => permissions[identity],
    clock: { nowMicros: () => now },
  });
  /** A device connection whose sink records what it is sent, and sends at most `room` at a time. */
  const connect = (id: string, subscriber: string, room = Infinity) => {
    const received: { identity: string; signal: string; qos: 0 | 1; samples: SignalDelivery[] }[] = [];
    const session: SignalSession = subscriptions.open(id, subscriber, {
      send(identity, signal, samples, qos) {
        const sent = samples.slice(0, room);
        received.push({ identity, signal, qos, samples: sent });
        return sent.length;
      },
    });
    return { session, received };
  };
  const sample = (signal: string, timestamp: number, value: number): Sample => ({
    signal,
    resource: signal,
    retention: 12,
    timestamp,
    value,
  });
  return { subscriptions, connect, sample, tick: (us: number) => (now += us), now: () => now };
}

const any = null;

describe('signal subscriptions', () => {
  it('lets a device subscribe to its own signals, and to others only as permission.subscript says', async () => {
    const { subscriptions, connect } = setup({
      b: { subscript: { identities: ['a'] } },
      c: { subscript: { identities: ['*'] } },
    });
    const b = connect('conn-b', 'b').session;
    const c = connect('conn-c', 'c').session;
    expect(await subscriptions.subscribe(b, 's/b/+', { identity: 'b', signal: any }, 1)).toBe(true);
    expect(await subscriptions.subscribe(b, 's/a/temp', { identity: 'a', signal: 'temp' }, 1)).toBe(true);
    expect(await subscriptions.subscribe(b, 's/x/temp', { identity: 'x', signal: 'temp' }, 1)).toBe(false);
    expect(await subscriptions.subscribe(b, 's/+/temp', { identity: any, signal: 'temp' }, 1)).toBe(false);
    expect(await subscriptions.subscribe(c, 's/#', { identity: any, signal: any }, 1)).toBe(true);
    expect([...b.subscriptions.keys()]).toEqual(['s/b/+', 's/a/temp']);
  });

  it('sends committed samples, oldest first, to every session whose filters match, once each at its highest QoS', async () => {
    const { subscriptions, connect, sample } = setup({ b: { subscript: { identities: ['*'] } } });
    const b = connect('conn-b', 'b');
    const own = connect('conn-a', 'a');
    await subscriptions.subscribe(b.session, 's/a/temp', { identity: 'a', signal: 'temp' }, 0);
    await subscriptions.subscribe(b.session, 's/+/temp', { identity: any, signal: 'temp' }, 1);
    await subscriptions.subscribe(b.session, 's/a/#', { identity: 'a', signal: any }, 0);
    await subscriptions.subscribe(own.session, 's/a/hum', { identity: 'a', signal: 'hum' }, 1);
    subscriptions.committed('a', [sample('temp', T + 2, 2), sample('temp', T + 1, 1), sample('hum', T, 50)]);
    expect(b.received).toEqual([
      {
        identity: 'a',
        signal: 'temp',
        qos: 1,
        samples: [
          { timestamp: T + 1, value: 1 },
          { timestamp: T + 2, value: 2 },
        ],
      },
      { identity: 'a', signal: 'hum', qos: 0, samples: [{ timestamp: T, value: 50 }] },
    ]);
    expect(own.received).toEqual([
      { identity: 'a', signal: 'hum', qos: 1, samples: [{ timestamp: T, value: 50 }] },
    ]);
    subscriptions.committed('z', [sample('hum', T, 1)]);
    expect(b.received).toHaveLength(2);
  });

  it('moves the offset of a session with each acknowledgement, never back, and reports its status', async () => {
    const { subscriptions, connect, sample, tick, now } = setup();
    const { session } = connect('conn-a', 'a');
    await subscriptions.subscribe(session, 's/a/temp', { identity: 'a', signal: 'temp' }, 1);
    const subscribedAt = now();
    expect(subscriptions.sessions('a', ['temp'])).toEqual([
      {
        signal: 'temp',
        sessionId: 'conn-a',
        sessionType: 'mqtt_qos1',
        subscriber: 'a',
        offset: null,
        status: 'ok',
        lastUpdate: subscribedAt,
      },
    ]);
    subscriptions.committed('a', [sample('temp', T + 10, 1), sample('temp', T + 20, 2)]);
    expect(subscriptions.sessions('a', ['temp'])[0]).toMatchObject({ status: 'sending', offset: null });
    tick(5);
    subscriptions.acknowledged(session, 'a', 'temp', T + 20);
    subscriptions.acknowledged(session, 'a', 'temp', T + 10);
    expect(subscriptions.sessions('a', ['temp'])[0]).toMatchObject({
      status: 'ok',
      offset: T + 20,
      lastUpdate: subscribedAt + 5,
    });
    expect(subscriptions.sessions('a', ['other'])).toEqual([]);
  });

  it('shows a session as overloaded when its sink dropped samples, until its next acknowledgement', async () => {
    const { subscriptions, connect, sample } = setup();
    const { session } = connect('conn-a', 'a', 1);
    await subscriptions.subscribe(session, 's/a/#', { identity: 'a', signal: any }, 1);
    subscriptions.committed('a', [sample('temp', T + 1, 1), sample('temp', T + 2, 2)]);
    expect(subscriptions.sessions('a', ['temp'])[0]?.status).toBe('overloaded');
    subscriptions.acknowledged(session, 'a', 'temp', T + 1);
    expect(subscriptions.sessions('a', ['temp'])[0]?.status).toBe('ok');
  });

  it('shows a session whose sink failed as failed, and goes on with the others', async () => {
    const { subscriptions, connect, sample } = setup();
    const broken = subscriptions.open('conn-x', 'a', {
      send() {
        throw new Error('socket gone');
      },
    });
    const working = connect('conn-a', 'a');
    await subscriptions.subscribe(broken, 's/a/temp', { identity: 'a', signal: 'temp' }, 1);
    await subscriptions.subscribe(working.session, 's/a/temp', { identity: 'a', signal: 'temp' }, 1);
    subscriptions.committed('a', [sample('temp', T, 1)]);
    expect(working.received).toHaveLength(1);
    expect(subscriptions.sessions('a', ['temp']).map((s) => [s.sessionId, s.status])).toEqual([
      ['conn-x', 'failed'],
      ['conn-a', 'sending'],
    ]);
  });

  it('stops sending after an unsubscribe, a close, or a withdrawn permission', async () => {
    const permissions: Record<string, IdentityPermission> = { b: { subscript: { identities: ['a'] } } };
    const { subscriptions, connect, sample } = setup(permissions);
    const first = connect('conn-1', 'b');
    const second = connect('conn-2', 'b');
    const third = connect('conn-3', 'b');
    await subscriptions.subscribe(first.session, 's/a/temp', { identity: 'a', signal: 'temp' }, 1);
    await subscriptions.subscribe(second.session, 's/a/+', { identity: 'a', signal: any }, 1);
    await subscriptions.subscribe(second.session, 's/b/+', { identity: 'b', signal: any }, 1);
    await subscriptions.subscribe(third.session, 's/a/temp', { identity: 'a', signal: 'temp' }, 1);
    subscriptions.unsubscribe(first.session, 's/a/temp');
    subscriptions.close(third.session);
    permissions.b = {};
    await subscriptions.permissionChanged('b');
    expect([...second.session.subscriptions.keys()]).toEqual(['s/b/+']);
    subscriptions.committed('a', [sample('temp', T, 1)]);
    expect([first, second, third].map((c) => c.received.length)).toEqual([0, 0, 0]);
    expect(await subscriptions.subscribe(third.session, 's/b/x', { identity: 'b', signal: 'x' }, 1)).toBe(
      false,
    );
  });
});
