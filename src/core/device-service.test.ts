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
