import { rmSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../../test/support/test-pki.js';
import { startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let pki: TestPki;
let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];

async function connectTls(options: mqtt.IClientOptions) {
  const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${gw.tlsPort}`, {
    reconnectPeriod: 0,
    ca: pki.caPem,
    servername: 'localhost',
    ...options,
  });
  clients.push(client);
  return client;
}

async function connackCode(options: mqtt.IClientOptions): Promise<number | undefined> {
  try {
    await connectTls(options);
    return 0;
  } catch (error) {
    return (error as { code?: number }).code;
  }
}

beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

beforeEach(async () => {
  gw = await startMqttGateway({ tls: pki.server });
  await gw.device2.updateGatewaySettings({
    pki: { enabled: true, client_ca: [pki.caPem] },
    provisioning: { auth_type: 'certificate' },
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await gw.close();
});

describe('MQTT over TLS', () => {
  it('provisions and authenticates a device by a client certificate from pki.client_ca, CN = identity', async () => {
    const device = await connectTls(pki.client('cert-device'));
    await device.publishAsync('$resource/reading', '1', { qos: 1 });
    const identity = await gw.device2.getIdentity({ identity: 'cert-device' });
    expect(identity).toMatchObject({ status: 'provisioned', auth: { type: 'certificate' } });
    expect(identity.auth.key).toContain('BEGIN CERTIFICATE');
    expect(gw.events.find((e) => e.type === 'data_in')).toMatchObject({ protocol: 'mqtts' });
  });

  it('refuses a certificate from a CA that is not configured with CONNACK 4', async () => {
    expect(await connackCode(pki.client('rogue-device', false))).toBe(4);
    await expect(gw.device2.getIdentity({ identity: 'rogue-device' })).rejects.toThrow(/does not exist/);
  });

  it('accepts token devices on the TLS listener too', async () => {
    await gw.device2.addIdentity({
      identity: 'tls-token',
      auth: { type: 'token', key: tokenFor('tlstokenA') },
    });
    const device = await connectTls({ username: '', password: tokenFor('tlstokenA') });
    await device.publishAsync('$resource/reading', '2', { qos: 1 });
    expect((await gw.device2.getIdentity({ identity: 'tls-token' })).online).toBe(true);
  });

  it('holds a provisioned certificate identity to its certificate when PKI is off', async () => {
    await gw.device2.updateGatewaySettings({ pki: { enabled: false } });
    const first = pki.client('pinned');
    await (await connectTls(first)).publishAsync('$resource/reading', '3', { qos: 1 });
    expect(await connackCode(pki.client('pinned'))).toBe(4);
    expect(await connackCode(first)).toBe(0);
  });
});
