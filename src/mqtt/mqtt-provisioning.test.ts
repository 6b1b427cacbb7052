import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closedByServer, nextMessage, startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];

async function connect(options: mqtt.IClientOptions) {
  const client = await mqtt.connectAsync(gw.url, { reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}

async function connackCode(options: mqtt.IClientOptions): Promise<number | undefined> {
  try {
    await connect(options);
    return 0;
  } catch (error) {
    return (error as { code?: number }).code;
  }
}

/** Connects without credentials and provisions; resolves with the reply's topic and token. */
async function provision(identity: string) {
  const client = await connect({});
  const reply = nextMessage(client);
  await client.publishAsync(`$provision/${identity}`, '', { qos: 1 });
  return { client, reply: await reply };
}

beforeEach(async () => {
  gw = await startMqttGateway();
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await gw.close();
});

describe('MQTT authentication and provisioning', () => {
  it('answers a $provision publish with a 40-character token the device then connects with', async () => {
    await gw.device2.addIdentity({ identity: 'new-1' });
    const { reply } = await provision('new-1');
    expect(reply.topic).toBe('$provision/new-1');
    expect(reply.payload).toMatch(/^[A-Za-z0-9]{40}$/);
    const device = await connect({ username: '', password: reply.payload });
    await device.publishAsync('$resource/x', '1', { qos: 1 });
    expect(await gw.device2.getIdentity({ identity: 'new-1' })).toMatchObject({ status: 'provisioned' });
    expect(gw.events.map((e) => e.type)).toContain('provisioned');
  });

  it('adds a presented identity, and refuses to provision it twice by closing the connection', async () => {
    await provision('presented');
    expect((await gw.device2.getIdentity({ identity: 'presented' })).status).toBe('provisioned');
    const again = await connect({});
    const closed = closedByServer(again);
    again.publish('$provision/presented', '', { qos: 1 });
    await closed;
    expect(gw.activity.some((a) => a.reason === 'provision_already_provisioned')).toBe(true);
  });

  it('refuses unknown identities when presented identities are not accepted', async () => {
    await gw.device2.updateGatewaySettings({ provisioning: { presenter_identity: false } });
    const client = await connect({});
    const closed = closedByServer(client);
    client.publish('$provision/stranger', '', { qos: 1 });
    await closed;
    await expect(gw.device2.getIdentity({ identity: 'stranger' })).rejects.toThrow(/does not exist/);
  });

  it('generates the identity for an empty $provision when generate_identity is on', async () => {
    await gw.device2.updateGatewaySettings({ provisioning: { generate_identity: true } });
    const { reply } = await provision('');
    const identity = reply.topic.slice('$provision/'.length);
    expect((await gw.device2.getIdentity({ identity })).status).toBe('provisioned');
  });

  it('lets a connection without credentials do nothing but provision', async () => {
    const client = await connect({});
    const closed = closedByServer(client);
    client.publish('$resource/temp', '1', { qos: 1 });
    await closed;
  });

  it('answers a wrong token with CONNACK 4 and a locked or expired identity with CONNACK 5', async () => {
    await gw.device2.addIdentity({
      identity: 'locked',
      auth: { type: 'token', key: tokenFor('lockedA') },
      locked: true,
    });
    await gw.device2.addIdentity({
      identity: 'lapsed',
      auth: { type: 'token', key: tokenFor('lapsedA'), expire: 1 },
    });
    expect(await connackCode({ username: '', password: tokenFor('nobody') })).toBe(4);
    expect(await connackCode({ username: '', password: tokenFor('lockedA') })).toBe(5);
    expect(await connackCode({ username: '', password: tokenFor('lapsedA') })).toBe(5);
    expect(gw.activity.filter((a) => a.metric === 'connection_error').map((a) => a.reason)).toEqual([
      'bad_credentials',
      'locked',
      'reprovision',
    ]);
  });

  it('refuses provisioning when it is disabled, from an address not allowed, or after the window closed', async () => {
    await gw.device2.addIdentity({ identity: 'late', auth: { expire: 1 } });
    const refused = async (identity: string) => {
      const client = await connect({});
      const closed = closedByServer(client);
      client.publish(`$provision/${identity}`, '', { qos: 1 });
      await closed;
    };
    await refused('late');
    expect(gw.events.find((e) => e.type === 'expired')).toMatchObject({ identity: 'late' });
    await gw.device2.updateGatewaySettings({
      provisioning: { ip_whitelisting: { enabled: true, allowed: ['10.0.0.0/8'] } },
    });
    await refused('elsewhere');
    await gw.device2.updateGatewaySettings({
      provisioning: { enabled: false, ip_whitelisting: { enabled: false } },
    });
    await refused('disabled');
    expect(gw.activity.map((a) => a.reason).filter(Boolean)).toEqual([
      'provision_expired',
      'provision_ip_not_allowed',
      'provision_provisioning_disabled',
    ]);
  });

  it('provisions a password identity on its first connect and then holds it to that password', async () => {
    await gw.device2.updateGatewaySettings({ provisioning: { auth_type: 'password' } });
    const password = 'correct horse battery staple';
    const first = await connect({ username: 'pw-device', password });
    await first.publishAsync('$resource/x', '1', { qos: 1 });
    expect((await gw.device2.getIdentity({ identity: 'pw-device' })).auth).toMatchObject({
      type: 'password',
      key: null,
    });
    expect(await connackCode({ username: 'pw-device', password: 'another password of 20+ bytes' })).toBe(4);
    expect(await connackCode({ username: 'pw-device', password })).toBe(0);
  });

  it('closes the connections of an identity that is deleted or locked', async () => {
    await gw.device2.addIdentity({ identity: 'doomed', auth: { type: 'token', key: tokenFor('doomedA') } });
    const client = await connect({ username: '', password: tokenFor('doomedA') });
    await expect.poll(() => gw.devices.connectedCount()).toBe(1);
    const closed = closedByServer(client);
    await gw.device2.updateIdentity({ identity: 'doomed', locked: true });
    await closed;
    expect(await connackCode({ username: '', password: tokenFor('doomedA') })).toBe(5);
    await gw.device2.updateIdentity({ identity: 'doomed', locked: false });
    const back = await connect({ username: '', password: tokenFor('doomedA') });
    await expect.poll(() => gw.devices.connectedCount()).toBe(1);
    const gone = closedByServer(back);
    await gw.device2.removeIdentity({ identity: 'doomed' });
    await gone;
  });
});
