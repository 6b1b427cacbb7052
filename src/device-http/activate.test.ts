import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { post, startDeviceHttp, type TestDeviceHttp } from './test-device-http.js';

let server: TestDeviceHttp;
beforeEach(async () => {
  server = await startDeviceHttp();
});
afterEach(async () => {
  await server.close();
});

const activate = (body: string) => post(server, '/provision/activate', body);

describe('POST /provision/activate', () => {
  it('answers a presented identity with a 40-character token as text and raises a provisioned event', async () => {
    const reply = await activate('id=sensor-1');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(reply.text).toMatch(/^[0-9A-Za-z]{40}$/);
    expect(await server.device2.getIdentity({ identity: 'sensor-1' })).toMatchObject({
      status: 'provisioned',
      auth: { type: 'token', key: null },
    });
    expect(server.events).toEqual([
      expect.objectContaining({
        type: 'provisioned',
        identity: 'sensor-1',
        protocol: 'http',
        ip: '127.0.0.1',
        connection_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      }),
    ]);
  });

  it('takes the identity from sn= as well, including the legacy vendor/model/sn body', async () => {
    expect((await activate('sn=sensor-2')).status).toBe(200);
    expect((await activate('vendor=p1&model=p1&sn=sensor-3')).status).toBe(200);
    const { devices } = await server.device2.listIdentities({ order: 'identity' });
    expect(devices.map((d) => [d.identity, d.status])).toEqual([
      ['sensor-2', 'provisioned'],
      ['sensor-3', 'provisioned'],
    ]);
  });

  it('answers 409 when the identity is already provisioned, and the first token stays valid', async () => {
    const first = await activate('id=sensor-1');
    const again = await activate('id=sensor-1');
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(again.text).toContain('already provisioned');
    const write = await post(server, '/onep:v1/stack/alias', 'x=1', { 'x-exosite-cik': first.text });
    expect(write.status).toBe(204);
  });

  it('answers 404 for an unknown identity when presented identities are not accepted, and provisions a whitelisted one', async () => {
    await server.device2.updateGatewaySettings({ provisioning: { presenter_identity: false } });
    expect((await activate('id=stranger')).status).toBe(404);
    await server.device2.addIdentity({ identity: 'listed' });
    expect((await activate('id=listed')).status).toBe(200);
    await expect(server.device2.getIdentity({ identity: 'stranger' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('answers 403 when provisioning is disabled', async () => {
    await server.device2.updateGatewaySettings({ provisioning: { enabled: false } });
    const reply = await activate('id=sensor-1');
    expect(reply.status).toBe(403);
    expect(reply.text).toContain('disabled');
  });

  it('answers 403 when the source address may not provision, and 200 once it may', async () => {
    await server.device2.updateGatewaySettings({
      provisioning: { ip_whitelisting: { enabled: true, allowed: ['10.0.0.0/8'] } },
    });
    expect((await activate('id=sensor-1')).status).toBe(403);
    await server.device2.updateGatewaySettings({
      provisioning: { ip_whitelisting: { enabled: true, allowed: ['127.0.0.1'] } },
    });
    expect((await activate('id=sensor-1')).status).toBe(200);
  });

  it('answers 403 for a locked identity', async () => {
    await server.device2.addIdentity({ identity: 'locked-1', locked: true });
    const reply = await activate('id=locked-1');
    expect(reply.status).toBe(403);
    expect(reply.text).toContain('locked');
  });

  it('generates the identity when none is given and generate_identity is on, answering only the token', async () => {
    await server.device2.updateGatewaySettings({
      identity_format: { type: 'base10', prefix: 'sn', options: { length: 6 } },
      provisioning: { generate_identity: true },
    });
    const reply = await activate('');
    expect(reply.status).toBe(200);
    expect(reply.text).toMatch(/^[0-9A-Za-z]{40}$/);
    const { devices } = await server.device2.listIdentities({});
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ identity: expect.stringMatching(/^sn\d{6}$/) as string });
    expect(devices[0]!.status).toBe('provisioned');
    expect((await activate('id=')).status).toBe(200);
  });

  it('answers 400 to an empty identity when generate_identity is off, and to one the format refuses', async () => {
    expect((await activate('')).status).toBe(400);
    await server.device2.updateGatewaySettings({
      identity_format: { type: 'base10', options: { length: 4 } },
    });
    const reply = await activate('id=abc');
    expect(reply.status).toBe(400);
    expect(reply.text).toContain('id');
  });

  it('answers 400 to an identity no identity may be, whatever the format, and adds none', async () => {
    for (const id of ['a%2Fb', 'p%2Cq', 'h%23x', 'w%2Bx', 'ctl%00x', 'x'.repeat(129)]) {
      const reply = await activate(`id=${id}`);
      expect(reply.status, id).toBe(400);
    }
    expect((await activate(`id=${'x'.repeat(128)}`)).status).toBe(200);
    expect((await server.device2.listIdentities({})).devices).toHaveLength(1);
  });

  it('answers 403 to a new identity when provisioning expects another scheme than a token, and provisions a whitelisted token identity', async () => {
    await server.device2.addIdentity({ identity: 'listed', auth: { type: 'token' } });
    for (const scheme of ['password', 'certificate'] as const) {
      await server.device2.updateGatewaySettings({ provisioning: { auth_type: scheme } });
      const reply = await activate('id=stranger');
      expect(reply.status).toBe(403);
      expect(reply.text).toContain(scheme);
    }
    await server.device2.updateGatewaySettings({ provisioning: { generate_identity: true } });
    expect((await activate('')).status).toBe(403);
    expect((await activate('id=listed')).status).toBe(200);
    expect((await server.device2.listIdentities({})).devices.map((d) => d.identity)).toEqual(['listed']);
  });
});
