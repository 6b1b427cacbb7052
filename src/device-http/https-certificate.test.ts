import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestPki } from '../../test/support/test-pki.js';
import { startDeviceHttp, type TestDeviceHttp } from './test-device-http.js';

interface Pki {
  ca: string;
  server: { cert: string; key: string };
  device: { cert: string; key: string };
  newcomer: { cert: string; key: string };
  /** Same CN as `device`, issued by another CA. */
  impostor: { cert: string; key: string };
}

let dir: string;
let pki: Pki;

/** A CA, a server certificate and client certificates (test/support/test-pki.ts). */
function makePki(): Pki {
  const made = createTestPki();
  dir = made.dir;
  return {
    ca: made.caPem,
    server: {
      cert: readFileSync(made.server.certFile, 'utf8'),
      key: readFileSync(made.server.keyFile, 'utf8'),
    },
    device: made.client('cert-dev-1'),
    newcomer: made.client('cert-dev-2'),
    impostor: made.client('cert-dev-1', false),
  };
}

beforeAll(() => {
  pki = makePki();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let server: TestDeviceHttp;
beforeEach(async () => {
  server = await startDeviceHttp({ tls: pki.server });
  await server.device2.addResource({ alias: 'temp', format: 'number' });
  await server.device2.updateGatewaySettings({ pki: { enabled: true, client_ca: [pki.ca] } });
});
afterEach(async () => {
  await server.close();
});

/** POSTs a form over HTTPS, with a client certificate and/or headers; resolves with status and body. */
function send(
  path: string,
  body: string,
  options: { client?: { cert: string; key: string }; headers?: Record<string, string> } = {},
): Promise<{ status: number | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
      ...options.client,
      // The test checks the device side of TLS; the server certificate is the test's own.
      rejectUnauthorized: false,
      agent: false,
    });
    req.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the HTTPS device API', () => {
  it('authenticates a device by its client certificate (CN = identity) without any header', async () => {
    await server.device2.addIdentity({
      identity: 'cert-dev-1',
      auth: { type: 'certificate', key: pki.device.cert },
    });
    server.events.length = 0;
    const reply = await send('/onep:v1/stack/alias', 'temp=7', { client: pki.device });
    expect(reply).toEqual({ status: 204, text: '' });
    expect((await server.device2.getIdentityState({ identity: 'cert-dev-1' })).temp).toMatchObject({
      reported: 7,
    });
    expect(server.events).toEqual([
      expect.objectContaining({
        type: 'data_in',
        identity: 'cert-dev-1',
        protocol: 'https',
        ip: '127.0.0.1',
      }),
    ]);
  });

  it('provisions a certificate identity on its first request when the settings let devices present themselves', async () => {
    await server.device2.updateGatewaySettings({ provisioning: { auth_type: 'certificate' } });
    const reply = await send('/onep:v1/stack/alias', 'temp=8', { client: pki.newcomer });
    expect(reply.status).toBe(204);
    expect(await server.device2.getIdentity({ identity: 'cert-dev-2' })).toMatchObject({
      status: 'provisioned',
      auth: { type: 'certificate' },
    });
    expect(server.events.map((e) => e.type)).toEqual(['provisioned', 'data_in']);
  });

  it('refuses with 401 a certificate with the right CN from another CA', async () => {
    await server.device2.addIdentity({
      identity: 'cert-dev-1',
      auth: { type: 'certificate', key: pki.device.cert },
    });
    const reply = await send('/onep:v1/stack/alias', 'temp=9', { client: pki.impostor });
    expect(reply.status).toBe(401);
    expect(await server.device2.getIdentityState({ identity: 'cert-dev-1' })).toEqual({});
  });

  it('answers 401 with neither a certificate nor a token, and accepts a token over TLS', async () => {
    expect((await send('/onep:v1/stack/alias', 'temp=1')).status).toBe(401);
    const { text: token } = await send('/provision/activate', 'id=token-dev');
    expect(token).toMatch(/^[0-9A-Za-z]{40}$/);
    const reply = await send('/onep:v1/stack/alias', 'temp=2', { headers: { 'x-exosite-cik': token } });
    expect(reply.status).toBe(204);
    expect(server.events.find((e) => e.type === 'provisioned')).toMatchObject({ protocol: 'https' });
  });
});
