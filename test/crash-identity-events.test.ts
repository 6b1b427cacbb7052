import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDevice2Client } from 'fleetgate/client';
import { startGateway, type RunningGateway } from './support/gateway-process.js';

/** Identities removed, and identities activated, over the test; and changes made per run. */
const EACH = 300;
const CHANGES_PER_RUN = 40;
const WORKERS = 8;

let gateway: RunningGateway | undefined;
afterEach(async () => {
  await gateway?.stop('SIGKILL');
});

/** An event handler module that appends "<type> <identity>" for each `deleted` and `provisioned`. */
function recordingHandler() {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-crash-identity-events-'));
  const file = join(dir, 'handled.txt');
  const module = join(dir, 'handler.mjs');
  writeFileSync(
    module,
    `import { appendFileSync } from 'node:fs';
     export default function (event) {
       if (event.type === 'deleted' || event.type === 'provisioned')
         appendFileSync(${JSON.stringify(file)}, event.type + ' ' + event.identity + '\\n');
     }`,
  );
  return { module, lines: () => new Set(existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []) };
}

/**
 * Removes identities through the API and activates new ones through the HTTP device API, WORKERS
 * of each at a time, and kills the gateway with SIGKILL once CHANGES_PER_RUN have been answered.
 */
async function changeUntilKilled(gw: RunningGateway, toRemove: string[], toActivate: string[]) {
  const api = createDevice2Client({ url: gw.url, token: gw.token() });
  let answered = 0;
  let alive = true;
  const worker = async (queue: string[], change: (identity: string) => Promise<unknown>) => {
    while (alive && queue.length > 0) {
      const identity = queue.shift()!;
      try {
        await change(identity);
        answered++;
      } catch {
        return; // the gateway died
      }
    }
  };
  const activate = async (identity: string) => {
    const response = await fetch(`${gw.deviceUrl}/provision/activate`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `id=${identity}`,
    });
    if (response.status !== 200) throw new Error(`activation answered ${response.status}`);
  };
  const workers = Array.from({ length: WORKERS }, () => [
    worker(toRemove, (identity) => api.removeIdentity({ identity })),
    worker(toActivate, activate),
  ]).flat();
  await expect.poll(() => answered, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(CHANGES_PER_RUN);
  expect(await gw.stop('SIGKILL')).toBeNull();
  alive = false;
  await Promise.all(workers);
}

describe('durability of the events of identity changes', () => {
  it('raises the deleted and provisioned events of every change committed before a SIGKILL', async () => {
    const handler = recordingHandler();
    const options = { args: ['--event-handler', handler.module] };
    gateway = await startGateway(options);
    const dataDir = gateway.dataDir;
    const api = createDevice2Client({ url: gateway.url, token: gateway.token() });
    const removed = Array.from({ length: EACH }, (_, n) => `gone-${n}`);
    const activated = Array.from({ length: EACH }, (_, n) => `new-${n}`);
    for (const identity of removed) await api.addIdentity({ identity });
    const toRemove = [...removed];
    const toActivate = [...activated];
    // Killed three times, mid-change: each kill may land between a commit and its event's storage.
    for (let run = 0; run < 3; run++) {
      await changeUntilKilled(gateway, toRemove, toActivate);
      gateway = await startGateway({ ...options, dataDir });
    }
    const restarted = createDevice2Client({ url: gateway.url, token: gateway.token() });
    const existing = new Set(
      (await restarted.listIdentities({ limit: 1000 })).devices.map((view) => view.identity),
    );
    const expected = [
      ...removed.filter((identity) => !existing.has(identity)).map((identity) => `deleted ${identity}`),
      ...activated.filter((identity) => existing.has(identity)).map((identity) => `provisioned ${identity}`),
    ];
    expect(expected.length).toBeGreaterThanOrEqual(3 * CHANGES_PER_RUN);
    await expect
      .poll(() => expected.filter((line) => !handler.lines().has(line)), { timeout: 20_000 })
      .toEqual([]);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  }, 90_000);
});
