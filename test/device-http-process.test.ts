import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDevice2Client } from 'fleetgate/client';
import {
  cleanEnv,
  newDataDir,
  runCli,
  startGateway,
  type RunningGateway,
} from './support/gateway-process.js';

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
});

describe('the HTTP device API of the gateway process', () => {
  it('activates a device, stores what it writes, and shows it through the management API', async () => {
    const gateway = await startGateway();
    running.push(gateway);
    expect(gateway.logs).toContainEqual(
      expect.objectContaining({ msg: 'listening', listener: 'device-http', port: gateway.deviceHttpPort }),
    );
    const device2 = createDevice2Client({ url: gateway.url, token: gateway.token() });
    await device2.addResource({ alias: 'temp', format: 'number' });

    const activated = await fetch(`${gateway.deviceUrl}/provision/activate`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'id=e2e-device',
    });
    expect(activated.status).toBe(200);
    const token = await activated.text();
    expect(token).toMatch(/^[0-9A-Za-z]{40}$/);

    const written = await fetch(`${gateway.deviceUrl}/onep:v1/stack/alias`, {
      method: 'POST',
      headers: { 'x-exosite-cik': token, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'temp=23.5',
    });
    expect(written.status).toBe(204);
    expect(await device2.getIdentityState({ identity: 'e2e-device' })).toEqual({
      temp: { set: 23.5, reported: 23.5, timestamp: expect.any(Number) as number },
    });
    expect(await device2.getIdentity({ identity: 'e2e-device' })).toMatchObject({
      status: 'provisioned',
      lastip: '127.0.0.1',
    });

    const now = Number(await (await fetch(`${gateway.deviceUrl}/timestamp`)).text());
    expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(60);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });

  it('ends a pending long-poll with 304 on SIGTERM and exits 0', async () => {
    const gateway = await startGateway();
    running.push(gateway);
    const device2 = createDevice2Client({ url: gateway.url, token: gateway.token() });
    await device2.addResource({ alias: 'setpoint', format: 'number', settable: true });
    const token = await (
      await fetch(`${gateway.deviceUrl}/provision/activate`, { method: 'POST', body: 'id=poller' })
    ).text();
    const next = fetch(`${gateway.deviceUrl}/onep:v1/stack/alias?setpoint`, {
      headers: { 'x-exosite-cik': token, 'request-timeout': '300000' },
    });
    // A round trip on another connection gives the poll time to arrive (it is accepted either way).
    expect((await fetch(`${gateway.deviceUrl}/timestamp`)).status).toBe(200);
    const stopped = gateway.stop('SIGTERM');
    const answer = await next.then(
      (response) => response.status,
      () => 'connection closed',
    );
    expect([304, 503, 'connection closed']).toContain(answer);
    expect(await stopped).toBe(0);
  });
});

describe('device listeners at start-up', () => {
  it('exits non-zero naming FLEETGATE_DEVICE_HTTP_PORT when its port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(
        ['serve', '--api-port', '0', '--device-http-port', String(port), '--data-dir', newDataDir()],
        cleanEnv(),
      );
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(
        /FLEETGATE_DEVICE_HTTP_PORT \(--device-http-port\): port \d+ on 127\.0\.0\.1 is in use/,
      );
    } finally {
      blocker.close();
    }
  });

  it('also listens for HTTPS when a TLS certificate and key are configured, and names them when unusable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetgate-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '2',
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    const tls = ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')];
    const gateway = await startGateway({ args: tls });
    running.push(gateway);
    const line = gateway.logs.find((l) => l.msg === 'listening' && l.listener === 'device-https');
    expect(line).toMatchObject({ port: expect.any(Number) as number });
    const seconds = await new Promise<string>((resolve, reject) => {
      httpsGet(
        `https://127.0.0.1:${line!.port as number}/timestamp`,
        { rejectUnauthorized: false },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve(text));
        },
      ).on('error', reject);
    });
    expect(seconds).toMatch(/^\d{10}$/);

    writeFileSync(join(dir, 'bad.pem'), 'not a certificate');
    const result = await runCli(
      [
        'serve',
        '--api-port',
        '0',
        '--device-http-port',
        '0',
        '--device-https-port',
        '0',
        '--data-dir',
        newDataDir(),
        '--tls-cert',
        join(dir, 'bad.pem'),
        '--tls-key',
        join(dir, 'key.pem'),
      ],
      cleanEnv(),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('FLEETGATE_TLS_CERT (--tls-cert)');
  });
});
