import { afterEach, describe, expect, it } from 'vitest';
import { startDeviceHttp, type TestDeviceHttp } from '../device-http/test-device-http.js';

let server: TestDeviceHttp | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('device publishes under way', () => {
  it('settle once every publish has been answered and its data_in raised, failed ones included', async () => {
    server = await startDeviceHttp({ file: true });
    await server.device2.addResource({ alias: 'temp', format: 'number' });
    await server.device2.addIdentity({ identity: 'd1' });
    const device = { identity: 'd1', permission: {} };
    const ctx = { ip: '10.0.0.1', protocol: 'mqtt' as const, connectionId: 'c1' };
    const publishes = [1, 2, 3].map((n) =>
      server!.devices.publish(device, ctx, [{ values: { temp: n } }], 1),
    );
    // Refused by its checks: it settles too.
    const refused = server.devices.publish(device, ctx, [{ values: { temp: 'warm' } }], 4);
    refused.catch(() => {});
    // Not before the last write has committed and raised its data_in.
    expect(server.events.filter((event) => event.type === 'data_in')).toHaveLength(0);
    await server.devices.settled();
    expect(server.events.filter((event) => event.type === 'data_in')).toHaveLength(3);
    await Promise.all(publishes);
    await expect(refused).rejects.toThrow();
  });
});

describe('server time of device publishes', () => {
  it('reads the clock once for the publishes of one task, stamps them apart, and again in the next task', async () => {
    server = await startDeviceHttp();
    await server.device2.addResource({ alias: 'temp', format: 'number' });
    await server.device2.addIdentity({ identity: 'd1' });
    const device = { identity: 'd1', permission: {} };
    const ctx = { ip: null, protocol: 'mqtt' as const, connectionId: 'c1' };
    const publish = (n: number) =>
      server!.devices.publish(device, ctx, { alias: 'temp', value: String(n) }, 1);
    // The first publish loads the resource definitions: it is not stamped in its own task.
    await publish(0);
    server.clock.advance(1_000);
    const start = server.clock.now;
    const sameTask = [publish(1), publish(2)];
    server.clock.advance(5_000);
    sameTask.push(publish(3));
    await Promise.all(sameTask);
    await publish(4);
    const stamps = server.events
      .filter((event) => event.type === 'data_in')
      .map((event) => event.timestamp)
      .slice(1);
    expect(stamps).toEqual([start, start + 1, start + 2, start + 5_000]);
  });
});
