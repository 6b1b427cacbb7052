import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiClient, expectCall } from './http-client.js';
import type { Device } from './mqtt-load.js';
import { startServer, type ServerProcess } from './server-process.js';
import { runLoad } from './stats.js';

/** Data directories of gateways not closed yet, removed by `removeDataDirs` if the bench stops early. */
const dataDirs = new Set<string>();

export function removeDataDirs(): void {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  dataDirs.clear();
}

export interface Fleetgate extends ServerProcess {
  adminToken: string;
  /** Stops the process and deletes its data directory. */
  close(): Promise<void>;
}

/**
 * Starts the built gateway as a user would (`node dist/src/main.js serve`), every listener on a
 * free port and its data in a fresh temporary directory. A listener that this build does not
 * have is simply missing from `ports`.
 */
export async function startFleetgate(root: string): Promise<Fleetgate> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetgate-device-bench-'));
  dataDirs.add(dataDir);
  const adminToken = randomBytes(24).toString('hex');
  // BENCH_GATEWAY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the gateway.
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  let server: ServerProcess;
  try {
    server = await startServer({
      name: 'fleetgate',
      command: process.execPath,
      args: [...nodeArgs, join(root, 'dist/src/main.js'), 'serve'],
      cwd: root,
      env: {
        ...process.env,
        FLEETGATE_DATA_DIR: dataDir,
        FLEETGATE_API_PORT: '0',
        FLEETGATE_MQTT_PORT: '0',
        FLEETGATE_DEVICE_HTTP_PORT: '0',
        FLEETGATE_ADMIN_TOKEN: adminToken,
      },
      listeners: ['api', 'mqtt', 'device-http'],
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    dataDirs.delete(dataDir);
    throw error;
  }
  return {
    ...server,
    adminToken,
    async close() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      dataDirs.delete(dataDir);
    },
  };
}

/** Device n's token: 40 alphanumeric characters, as the gateway's own tokens. */
export function deviceToken(n: number): string {
  return createHash('sha256').update(`fleetgate-device-bench-${n}`).digest('hex').slice(0, 40);
}

/** Device n as it connects over MQTT: token auth (empty user name, password = token). */
export function mqttDevice(n: number): Device {
  return { clientId: `dev-${n}`, username: '', password: deviceToken(n) };
}

/**
 * Defines the numeric resource `temp` and `count` token identities dev-0 … dev-(count-1) through
 * the management API; returns the rate of addIdentity.
 */
export async function addDevices(gateway: Fleetgate, count: number, inFlight = 32): Promise<number> {
  const api = createApiClient(gateway.ports.api!, gateway.adminToken, inFlight);
  try {
    await expectCall(api, 'addResource', { alias: 'temp', format: 'number' }, 204);
    const result = await runLoad({ inFlight, count }, async (n) => {
      await expectCall(
        api,
        'addIdentity',
        { identity: `dev-${n}`, auth: { type: 'token', key: deviceToken(n) } },
        204,
      );
    });
    return (result.count / result.elapsedMs) * 1000;
  } finally {
    api.close();
  }
}
