import { afterEach, describe, expect, it } from 'vitest';
import { createDevice2Client } from 'fleetgate/client';
import { newDataDir, startGateway, type RunningGateway } from './support/gateway-process.js';

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
});

describe('SIGTERM under load', () => {
  it('exits 0 with every acknowledged write stored, refusing anything late only with a {code, message} 503', async () => {
    const dataDir = newDataDir();
    const gateway = await startGateway({ dataDir });
    running.push(gateway);
    const headers = { authorization: `Bearer ${gateway.token()}`, 'content-type': 'application/json' };
    const acknowledged: string[] = [];
    const refusals: { status: number; body: unknown }[] = [];
    let next = 0;
    let stopping: Promise<number | null> | undefined;

    async function worker(): Promise<void> {
      while (next < 3000) {
        const identity = `load-${next++}`;
        let response: Response;
        try {
          response = await fetch(`${gateway.url}/api/v1/device2/addIdentity`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ identity }),
          });
        } catch {
          return; // the listener is gone: this client is done
        }
        if (response.status === 204) acknowledged.push(identity);
        else refusals.push({ status: response.status, body: await response.json() });
        if (acknowledged.length === 300 && !stopping) stopping = gateway.stop('SIGTERM');
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(await stopping).toBe(0);
    for (const refusal of refusals) {
      expect(refusal).toEqual({ status: 503, body: { code: 503, message: 'the gateway is shutting down' } });
    }

    const restarted = await startGateway({ dataDir });
    running.push(restarted);
    const device2 = createDevice2Client({ url: restarted.url, token: restarted.token() });
    const stored = new Set<string>();
    for (let offset = 0; ; offset += 2000) {
      const page = await device2.listIdentities({ limit: 2000, offset, order: 'identity' });
      for (const device of page.devices) stored.add(device.identity);
      if (!page.mayLoadMore) break;
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    expect(acknowledged.filter((identity) => !stored.has(identity))).toEqual([]);
  });
});
