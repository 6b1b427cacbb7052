import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];

async function device(identity: string, token = tokenFor(identity)) {
  await gw.device2.addIdentity({ identity, auth: { type: 'token', key: token } });
  const client = await mqtt.connectAsync(gw.url, { username: '', password: token, reconnectPeriod: 0 });
  clients.push(client);
  return client;
}

beforeEach(async () => {
  gw = await startMqttGateway();
  await gw.device2.addResource({ alias: 'temp', format: 'number' });
  await gw.device2.addResource({ alias: 'mode', format: 'string', settable: true });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await gw.close();
});

describe('publishing over MQTT', () => {
  it('acknowledges a QoS 1 value only once it is stored as state and as a sample', async () => {
    const client = await device('sensor-1');
    await client.publishAsync('$resource/temp', '21.5', { qos: 1 });
    const state = await gw.device2.getIdentityState({ identity: 'sensor-1' });
    expect(state.temp).toMatchObject({ reported: 21.5, set: 21.5 });
    const samples = gw.samples().filter((s) => s.identity === 'sensor-1');
    expect(samples.map((s) => s.value)).toEqual([21.5]);
  });

  it('emits data_in with the payload and the resources whose state changed, also for undefined aliases', async () => {
    const client = await device('sensor-2');
    await client.publishAsync('$resource/humidity', '40', { qos: 1 });
    await client.publishAsync('$resource/temp', '7', { qos: 1 });
    const dataIn = gw.events.filter((e) => e.type === 'data_in');
    expect(dataIn).toHaveLength(2);
    expect(dataIn[0]).toMatchObject({
      identity: 'sensor-2',
      protocol: 'mqtt',
      ip: '127.0.0.1',
      payload: [{ values: { humidity: '40' } }],
      updated_resources: [],
    });
    expect(dataIn[1]).toMatchObject({ payload: [{ values: { temp: 7 } }], updated_resources: ['temp'] });
    expect(dataIn[0]!.connection_id).toBe(dataIn[1]!.connection_id);
    expect(gw.activity.filter((a) => a.metric === 'publish_count')).toHaveLength(2);
  });

  it('stores a batch with the device timestamps, keeping the newest as state', async () => {
    const client = await device('sensor-3');
    const now = Math.floor(Date.now() / 1000);
    const batch = [
      { timestamp: now - 20, values: { temp: 1 } },
      { timestamp: now - 10, values: { temp: 2, other: 'x' } },
    ];
    await client.publishAsync('$resource.batch', JSON.stringify(batch), { qos: 1 });
    const state = await gw.device2.getIdentityState({ identity: 'sensor-3' });
    expect(state.temp).toMatchObject({ reported: 2, timestamp: (now - 10) * 1e6 });
    const samples = gw.samples().filter((s) => s.identity === 'sensor-3');
    expect(samples.map(({ timestamp, value }) => ({ timestamp, value }))).toEqual([
      { timestamp: (now - 20) * 1e6, value: 1 },
      { timestamp: (now - 10) * 1e6, value: 2 },
    ]);
  });

  it('does not let history from a batch overwrite newer state', async () => {
    const client = await device('sensor-4');
    await client.publishAsync('$resource/temp', '30', { qos: 1 });
    const old = Math.floor(Date.now() / 1000) - 3600;
    await client.publishAsync('$resource.batch', JSON.stringify([{ timestamp: old, values: { temp: 5 } }]), {
      qos: 1,
    });
    expect((await gw.device2.getIdentityState({ identity: 'sensor-4' })).temp).toMatchObject({
      reported: 30,
    });
  });

  it('keeps lastseen, lastip and online current, with connect and disconnect events', async () => {
    const client = await device('sensor-5');
    await client.publishAsync('$resource/temp', '1', { qos: 1 });
    const online = await gw.device2.getIdentity({ identity: 'sensor-5' });
    expect(online).toMatchObject({ online: true, lastip: '127.0.0.1' });
    expect(online.lastseen).toBeGreaterThan(Date.now() * 1000 - 60e6);
    await client.endAsync();
    await expect
      .poll(async () => (await gw.device2.getIdentity({ identity: 'sensor-5' })).online)
      .toBe(false);
    expect(gw.events.map((e) => e.type)).toEqual(['connect', 'data_in', 'disconnect']);
  });

  it('lets a second connection with the same client id take the first one over, the device staying online', async () => {
    const token = tokenFor('sensor-6');
    await gw.device2.addIdentity({ identity: 'sensor-6', auth: { type: 'token', key: token } });
    const options = { username: '', password: token, reconnectPeriod: 0, clientId: 'sensor-6-fw' };
    const first = await mqtt.connectAsync(gw.url, options);
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    const second = await mqtt.connectAsync(gw.url, options);
    clients.push(first, second);
    await firstClosed;
    await second.publishAsync('$resource/temp', '2', { qos: 1 });
    expect(await gw.device2.getIdentity({ identity: 'sensor-6' })).toMatchObject({ online: true });
    await second.endAsync();
    await expect
      .poll(async () => (await gw.device2.getIdentity({ identity: 'sensor-6' })).online)
      .toBe(false);
  });

  it('lets a gateway device publish as another identity when the settings or a permission allow it', async () => {
    await gw.device2.addIdentity({ identity: 'leaf' });
    const hub = await device('hub');
    await gw.device2.updateIdentityPermission({
      identity: 'hub',
      permission: { publish_as: { identities: ['leaf'] } },
    });
    await hub.publishAsync('$as/leaf/temp', '12', { qos: 1 });
    expect((await gw.device2.getIdentityState({ identity: 'leaf' })).temp).toMatchObject({ reported: 12 });
    const master = await device('master');
    await gw.device2.updateGatewaySettings({ permission: { gateway: ['master'] } });
    await master.publishAsync('$as/leaf/temp', '13', { qos: 1 });
    expect((await gw.device2.getIdentityState({ identity: 'leaf' })).temp).toMatchObject({ reported: 13 });
  });

  it('takes "*" in a publish_as permission as every identity', async () => {
    await gw.device2.addIdentity({ identity: 'leaf' });
    const hub = await device('hub');
    await gw.device2.updateIdentityPermission({
      identity: 'hub',
      permission: { publish_as: { identities: ['*'] } },
    });
    await hub.publishAsync('$as/leaf/temp', '14', { qos: 1 });
    expect((await gw.device2.getIdentityState({ identity: 'leaf' })).temp).toMatchObject({ reported: 14 });
  });
});
