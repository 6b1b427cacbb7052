import { afterEach, describe, expect, it } from 'vitest';
import { createDevice2Client } from 'fleetgate/client';
import { newDataDir, startGateway, type RunningGateway } from './support/gateway-process.js';

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
});

describe('device metrics of the gateway process', () => {
  it('are flushed at a graceful stop and answered by getDeviceMetrics after a restart', async () => {
    const dataDir = newDataDir();
    const first = await startGateway({ dataDir });
    running.push(first);
    const before = createDevice2Client({ url: first.url, token: first.token() });
    await before.addIdentity({ identity: 'm-1' });
    await before.addIdentity({ identity: 'm-2', locked: true });
    await before.removeIdentity({ identity: 'm-1' });
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startGateway({ dataDir });
    running.push(second);
    const after = createDevice2Client({ url: second.url, token: second.token() });
    const total = async (metric_name: 'whitelisted' | 'locked' | 'deleted') =>
      (await after.getDeviceMetrics({ metric_name, aggregate_window: '1m' })).reduce(
        (n, p) => n + p.value,
        0,
      );
    expect(await total('whitelisted')).toBe(2);
    expect(await total('locked')).toBe(1);
    expect(await total('deleted')).toBe(1);
    const connected = await after.getDeviceMetrics({ aggregate_window: '1m' });
    expect(connected.length).toBeGreaterThan(0);
    for (const point of connected) {
      expect(point).toEqual({
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000000Z$/) as string,
        value: 0,
      });
    }
  });
});
