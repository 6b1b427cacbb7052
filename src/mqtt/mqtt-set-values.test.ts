import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextMessage, startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];
const token = tokenFor('thermostatA');

async function connect() {
  const client = await mqtt.connectAsync(gw.url, { username: '', password: token, reconnectPeriod: 0 });
  clients.push(client);
  return client;
}

/** Connects and waits until the gateway has registered the connection (set values go to it). */
async function connectReady() {
  const before = gw.devices.connectedCount();
  const client = await connect();
  await expect.poll(() => gw.devices.connectedCount()).toBe(before + 1);
  return client;
}

beforeEach(async () => {
  gw = await startMqttGateway();
  await gw.device2.addResource({ alias: 'mode', format: 'string', settable: true });
  await gw.device2.addResource({ alias: 'level', format: 'number', settable: true, sync: false });
  await gw.device2.addIdentity({ identity: 'thermostat', auth: { type: 'token', key: token } });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await gw.close();
});

describe('set values over MQTT', () => {
  it('pushes a set value to the connected device as $resource/<alias>/<µs> without a subscription', async () => {
    const device = await connectReady();
    const message = nextMessage(device);
    await gw.device2.setIdentityState({ identity: 'thermostat', mode: 'eco' });
    const { topic, payload } = await message;
    const state = await gw.device2.getIdentityState({ identity: 'thermostat' });
    expect(topic).toBe(`$resource/mode/${state.mode!.timestamp}`);
    expect(payload).toBe('eco');
    expect(state.mode).toMatchObject({ set: 'eco' });
    expect(state.mode!.reported).toBeUndefined();
  });

  it('pushes an empty string set value, and sends it again on reconnect until reported', async () => {
    const device = await connectReady();
    const message = nextMessage(device);
    await gw.device2.setIdentityState({ identity: 'thermostat', mode: '' });
    expect(await message).toMatchObject({ payload: '' });
    await device.endAsync();
    await expect.poll(() => gw.devices.connectedCount()).toBe(0);
    const again = await mqtt.connectAsync(gw.url, { username: '', password: token, reconnectPeriod: 0 });
    clients.push(again);
    const resent = await nextMessage(again);
    expect(resent.topic).toMatch(/^\$resource\/mode\/\d+$/);
    expect(resent.payload).toBe('');
  });

  it('pushes set values of updateIdentities to the matched connected devices only', async () => {
    await gw.device2.addIdentity({ identity: 'other', auth: { type: 'token', key: tokenFor('otherA') } });
    await gw.device2.addIdentityTag({ identity: 'thermostat', tags: [{ name: 'site', value: 'north' }] });
    const device = await connectReady();
    const other = await mqtt.connectAsync(gw.url, {
      username: '',
      password: tokenFor('otherA'),
      reconnectPeriod: 0,
    });
    clients.push(other);
    await expect.poll(() => gw.devices.connectedCount()).toBe(2);
    const received: string[] = [];
    other.on('message', (topic) => received.push(topic));
    const message = nextMessage(device);
    await gw.device2.updateIdentities({
      tag: 'site',
      'tag.value': 'north',
      update: { state: { mode: 'night' } },
    });
    const { topic, payload } = await message;
    expect(topic).toMatch(/^\$resource\/mode\/\d+$/);
    expect(payload).toBe('night');
    // A set value to the matched device was written before this one: the other got nothing.
    await gw.device2.setIdentityState({ identity: 'thermostat', mode: 'day' });
    await nextMessage(device);
    expect(received).toEqual([]);
  });

  it('takes the device reporting the same value as its acknowledgement', async () => {
    const device = await connectReady();
    const message = nextMessage(device);
    await gw.device2.setIdentityState({ identity: 'thermostat', mode: 'away' });
    await message;
    await device.publishAsync('$resource/mode', 'away', { qos: 1 });
    expect((await gw.device2.getIdentityState({ identity: 'thermostat' })).mode).toMatchObject({
      set: 'away',
      reported: 'away',
    });
  });

  it('sends unacknowledged set values again when the device reconnects, and acknowledged ones not', async () => {
    await gw.device2.setIdentityState({ identity: 'thermostat', mode: 'heat' });
    const first = await connect();
    const redelivered = await nextMessage(first);
    expect(redelivered).toMatchObject({ payload: 'heat' });
    await first.endAsync();
    const second = await connect();
    const again = await nextMessage(second);
    expect(again).toMatchObject({ payload: 'heat' });
    await second.publishAsync('$resource/mode', 'heat', { qos: 1 });
    await second.endAsync();
    const third = await connectReady();
    const next = nextMessage(third);
    await gw.device2.setIdentityState({ identity: 'thermostat', level: 3 });
    // The first message after the acknowledgement is the new value: "heat" was not sent again.
    const message = await next;
    expect(message.topic).toMatch(/^\$resource\/level\//);
    expect(message.payload).toBe('3');
  });

  it('applies a value of a sync=false resource at once and still tells the connected device', async () => {
    const device = await connectReady();
    const message = nextMessage(device);
    await gw.device2.setIdentityState({ identity: 'thermostat', level: 7 });
    expect((await gw.device2.getIdentityState({ identity: 'thermostat' })).level).toMatchObject({
      set: 7,
      reported: 7,
    });
    expect(await message).toMatchObject({ payload: '7' });
  });

  it('raises the events of a real device for a simulated report, without pushing it to the device', async () => {
    const device = await connectReady();
    const message = nextMessage(device);
    await gw.device2.setIdentityState({ identity: 'thermostat', mode: 'sim', simulate: true });
    expect(gw.events.at(-1)).toMatchObject({
      type: 'data_in',
      identity: 'thermostat',
      updated_resources: ['mode'],
    });
    await gw.device2.setIdentityState({ identity: 'thermostat', mode: 'real' });
    expect(await message).toMatchObject({ payload: 'real' });
  });
});
