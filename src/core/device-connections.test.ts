import { describe, expect, it } from 'vitest';
import { DeviceConnections, type DeviceLink, type SetValue } from './device-connections.js';

function link(): DeviceLink & { delivered: SetValue[][]; closed: string[] } {
  const delivered: SetValue[][] = [];
  const closed: string[] = [];
  return {
    delivered,
    closed,
    deliver: (values) => delivered.push(values),
    close: (reason) => closed.push(reason),
  };
}

const value: SetValue = { alias: 'state', value: 'on', timestamp: 1 };

describe('device connections', () => {
  it('pushes set values to every connection of a device, and to no other device', () => {
    const connections = new DeviceConnections();
    const [a1, a2, b] = [link(), link(), link()];
    connections.add('a', a1);
    connections.add('a', a2);
    connections.add('b', b);
    connections.setValuesChanged('a', [value]);
    expect([a1.delivered, a2.delivered, b.delivered]).toEqual([[[value]], [[value]], []]);
    expect([connections.count(), connections.connectedDevices()]).toEqual([3, 2]);
  });

  it('tells when a device closes its last connection, whatever the order', () => {
    const connections = new DeviceConnections();
    const [first, second, third] = [link(), link(), link()];
    connections.add('a', first);
    connections.add('a', second);
    connections.add('a', third);
    expect(connections.remove('a', second)).toBe(false);
    expect(connections.remove('a', first)).toBe(false);
    expect(connections.remove('a', first)).toBe(false);
    expect(connections.remove('a', third)).toBe(true);
    expect([connections.count(), connections.connectedDevices()]).toEqual([0, 0]);
    connections.add('a', first);
    expect(connections.remove('a', second)).toBe(false);
    expect(connections.remove('a', first)).toBe(true);
  });

  it('counts a connection added twice once, and closes every connection of a device', () => {
    const connections = new DeviceConnections();
    const [one, two] = [link(), link()];
    connections.add('a', one);
    connections.add('a', one);
    expect(connections.count()).toBe(1);
    connections.add('a', two);
    connections.add('a', two);
    expect(connections.count()).toBe(2);
    connections.closeAll('a', 'deleted');
    expect([one.closed, two.closed]).toEqual([['deleted'], ['deleted']]);
    expect(connections.watched()).toEqual(new Set(['a']));
  });

  it("refuses a connection accepted before its identity's connections were closed, and only that identity's", () => {
    const connections = new DeviceConnections();
    const mark = connections.mark();
    connections.closeAll('a', 'locked');
    expect(connections.add('a', link(), mark)).toBe(false);
    expect(connections.add('b', link(), mark)).toBe(true);
    expect(connections.add('a', link(), connections.mark())).toBe(true);
    expect(connections.add('a', link())).toBe(true);
    expect(connections.count()).toBe(3);
  });

  it("ends the long-polls of an identity whose connections are closed, and no other identity's", async () => {
    const connections = new DeviceConnections();
    const polls = [
      connections.waitForSet('a', 'state', 60_000),
      connections.waitForSet('a', 'mode', 60_000),
      connections.waitForSet('ab', 'state', 60_000),
    ];
    connections.closeAll('a', 'locked');
    connections.setValuesChanged('a', [value]);
    connections.setValuesChanged('ab', [value]);
    expect(await Promise.all(polls)).toEqual([undefined, undefined, value]);
    expect(connections.watched()).toEqual(new Set());
  });

  it('forgets the oldest closes first, refusing only connections accepted before them', () => {
    const connections = new DeviceConnections();
    const early = connections.mark();
    connections.closeAll('closed-0', 'locked');
    const later = connections.mark();
    for (let i = 1; i <= 10_000; i++) connections.closeAll(`closed-${i}`, 'locked');
    // The first close is forgotten: a connection accepted before it cannot be checked.
    expect(connections.add('b', link(), early)).toBe(false);
    expect(connections.add('b', link(), later)).toBe(true);
    expect(connections.add('closed-10000', link(), later)).toBe(false);
  });

  it('answers a long-poll of an identity closed since its mark at once, and cleans up after every poll', async () => {
    const connections = new DeviceConnections();
    const mark = connections.mark();
    connections.closeAll('a', 'locked');
    expect(await connections.waitForSet('a', 'state', 60_000, undefined, mark)).toBeUndefined();
    const polls = [
      connections.waitForSet('b', 'state', 60_000),
      connections.waitForSet('b', 'state', 60_000),
    ];
    connections.setValuesChanged('b', [value]);
    expect(await Promise.all(polls)).toEqual([value, value]);
    expect(connections.watched()).toEqual(new Set());
    connections.closeAll('b', 'locked');
  });
});
