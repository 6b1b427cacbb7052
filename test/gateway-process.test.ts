import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDevice2Client, Device2Error } from 'fleetgate/client';
import {
  cleanEnv,
  newDataDir,
  runCli,
  startGateway,
  type RunningGateway,
} from './support/gateway-process.js';

const running: RunningGateway[] = [];
async function start(options?: Parameters<typeof startGateway>[0]): Promise<RunningGateway> {
  const gateway = await startGateway(options);
  running.push(gateway);
  return gateway;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
});

describe('the gateway process', () => {
  it('starts on port 0, serves the management API to the typed client, and stops cleanly on SIGTERM', async () => {
    const gateway = await start();
    expect(gateway.logs.find((l) => l.adminToken)).toBeDefined();
    expect(await (await fetch(`${gateway.url}/health`)).text()).toBe('OK');

    const device2 = createDevice2Client({ url: gateway.url, token: gateway.token() });
    await device2.updateGatewaySettings({
      identity_format: { type: 'base10', prefix: 'sn', options: { length: 6 } },
    });
    await device2.addIdentity({
      identity: 'sn000001',
      auth: { type: 'password', key: 'a-password-of-20-bytes!' },
    });
    await device2.addIdentityTag({ identity: 'sn000001', tags: [{ name: 'site', value: 'north' }] });
    const made = await device2.makeIdentity({});
    expect(made.identity).toMatch(/^sn\d{6}$/);
    await device2.addResource({ alias: 'setpoint', format: 'number', settable: true, allowed: ['10-30'] });
    await device2.setIdentityState({ identity: 'sn000001', setpoint: 21 });

    const listed = await device2.listIdentities({
      tags: JSON.stringify([{ name: 'site', operator: 'eq', value: 'north' }]),
    });
    expect(listed.devices.map((d) => d.identity)).toEqual(['sn000001']);
    expect(listed.devices[0]).toMatchObject({
      status: 'provisioned',
      auth: { type: 'password', key: null },
      state: { setpoint: { set: 21 } },
    });
    expect(await device2.countIdentities({ status: 'whitelisted' })).toEqual({ count: 1 });

    await expect(device2.setIdentityState({ identity: 'sn000001', setpoint: 99 })).rejects.toMatchObject({
      status: 400,
    });
    await expect(device2.addIdentity({ identity: 'abc' })).rejects.toBeInstanceOf(Device2Error);
    await device2.removeIdentity({ identity: made.identity });
    await expect(device2.getIdentity({ identity: made.identity })).rejects.toMatchObject({ status: 404 });

    expect(await gateway.stop('SIGTERM')).toBe(0);
  });

  it('keeps its data and its admin token across restarts, printing the token only the first time', async () => {
    const dataDir = newDataDir();
    const first = await start({ dataDir });
    const token = first.token();
    await createDevice2Client({ url: first.url, token }).addIdentity({ identity: 'kept' });
    expect(await first.stop('SIGINT')).toBe(0);

    const second = await start({ dataDir });
    expect(second.logs.some((l) => l.adminToken)).toBe(false);
    const device2 = createDevice2Client({ url: second.url, token });
    expect((await device2.getIdentity({ identity: 'kept' })).identity).toBe('kept');
  });

  it('uses FLEETGATE_ADMIN_TOKEN when set and refuses any other token', async () => {
    const gateway = await start({ env: { FLEETGATE_ADMIN_TOKEN: 'operator-token' } });
    const response = await fetch(`${gateway.url}/api/v1/device2/listTagNames`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: 401, message: expect.any(String) as string });
    expect(await createDevice2Client({ url: gateway.url, token: 'operator-token' }).listTagNames({})).toEqual(
      [],
    );
  });

  it('survives garbage and oversized bodies and keeps answering', async () => {
    const gateway = await start();
    const headers = { authorization: `Bearer ${gateway.token()}` };
    const post = (body: string) =>
      fetch(`${gateway.url}/api/v1/device2/addIdentity`, { method: 'POST', headers, body });
    expect((await post('{"identity":')).status).toBe(400);
    expect(await announcedBodyStatus(gateway, 2 * 1024 * 1024)).toBe(413);
    expect((await post(JSON.stringify({ identity: 'ok' }))).status).toBe(204);
  });
});

/** Announces a body of `length` bytes, sends a little of it, and returns the status the gateway answers. */
function announcedBodyStatus(gateway: RunningGateway, length: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(`${gateway.url}/api/v1/device2/addIdentity`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${gateway.token()}`,
        'content-type': 'application/json',
        'content-length': length,
      },
    });
    req.on('response', (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    req.on('error', reject);
    req.write('{"identity":"');
  });
}

describe('start-up failures', () => {
  it('exits non-zero with one line naming each bad setting, listening on nothing', async () => {
    const result = await runCli(
      ['serve', '--api-port', 'http', '--no-such-flag'],
      cleanEnv({ FLEETGATE_DATA_DIR: newDataDir() }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('FLEETGATE_API_PORT (--api-port)');
    expect(result.stderr).toContain('unknown flag --no-such-flag');
    expect(result.stdout).not.toContain('listening');
  });

  it('exits non-zero naming the data directory when it cannot be used', async () => {
    const result = await runCli(['serve', '--api-port', '0', '--data-dir', '/dev/null/data'], cleanEnv());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('FLEETGATE_DATA_DIR (--data-dir): cannot use /dev/null/data');
  });

  it('exits non-zero naming the port setting when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(
        ['serve', '--api-port', String(port), '--data-dir', newDataDir()],
        cleanEnv(),
      );
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/FLEETGATE_API_PORT \(--api-port\): port \d+ on 127\.0\.0\.1 is in use/);
    } finally {
      blocker.close();
    }
  });
});

describe('fleetgate call', () => {
  it('calls a running gateway and prints the JSON answer, or the error with exit code 1', async () => {
    const gateway = await start();
    const env = cleanEnv({ FLEETGATE_API_URL: gateway.url, FLEETGATE_ADMIN_TOKEN: gateway.token() });
    expect((await runCli(['call', 'addIdentity', '{"identity":"cli-1"}'], env)).code).toBe(0);
    const got = await runCli(['call', 'getIdentity', '-'], env, '{"identity":"cli-1"}');
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ identity: 'cli-1', status: 'whitelisted' });

    const missing = await runCli(['call', 'getIdentity', '{"identity":"nobody"}'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
    // Without FLEETGATE_ADMIN_TOKEN the CLI reads the token from the gateway's data directory.
    const fromDataDir = await runCli(
      ['call', 'countIdentities'],
      cleanEnv({ FLEETGATE_API_URL: gateway.url, FLEETGATE_DATA_DIR: gateway.dataDir }),
    );
    expect(JSON.parse(fromDataDir.stdout)).toEqual({ count: 1 });
    expect((await runCli(['call', 'getIdentity', '{not json'], env)).code).toBe(2);
  });
});
