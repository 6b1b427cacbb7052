import { connect as connectTcp } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closedByServer, startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];

async function device(identity: string) {
  const token = tokenFor(`${identity}A`);
  if ((await gw.device2.listIdentities({ identity: `^${identity}$` })).devices.length === 0)
    await gw.device2.addIdentity({ identity, auth: { type: 'token', key: token } });
  const client = await mqtt.connectAsync(gw.url, { username: '', password: token, reconnectPeriod: 0 });
  clients.push(client);
  return client;
}

/** Publishes something the gateway must refuse: the connection closes, with the reason counted. */
async function refused(topic: string, payload: string | Buffer, reason: string, qos: 0 | 1 | 2 = 1) {
  const client = await device('offender');
  const closed = closedByServer(client);
  client.publish(topic, payload, { qos });
  await closed;
  expect(gw.activity.filter((a) => a.metric === 'connection_error').map((a) => a.reason)).toContain(reason);
}

beforeEach(async () => {
  gw = await startMqttGateway();
  await gw.device2.addResource({ alias: 'temp', format: 'number', allowed: ['0-100'] });
  await gw.device2.addResource({ alias: 'note', format: 'string' });
  await gw.device2.addResource({ alias: 'unit', format: 'string', settable: true });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await gw.close();
});

describe('bad input over MQTT', () => {
  it('still stores a QoS 0 publish that came in the same socket read after a refused one', async () => {
    const client = await device('offender');
    // The first publish loads the resource definitions: the refusal below is then synchronous.
    await client.publishAsync('$resource/note', 'before', { qos: 1 });
    const closed = closedByServer(client);
    // QoS 0 PUBLISH packets, written by hand so that both go out in one write.
    const publish = (topic: string, payload: string) =>
      Buffer.concat([
        Buffer.from([0x30, 2 + topic.length + payload.length, 0, topic.length]),
        Buffer.from(topic + payload),
      ]);
    client.stream.write(
      Buffer.concat([publish('$resource/temp', 'warm'), publish('$resource/note', 'after')]),
    );
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const notes = gw.samples().filter((sample) => sample.identity === 'offender');
    expect(notes.map((sample) => sample.value)).toEqual(['before', 'after']);
    expect(gw.activity.filter((a) => a.metric === 'connection_error').map((a) => a.reason)).toEqual([
      'invalid_value',
    ]);
  });

  it('refuses QoS 2 publishes', () => refused('$resource/temp', '1', 'qos2', 2));
  it('refuses topics that are not the device API', () => refused('some/topic', '1', 'forbidden_topic'));
  it('refuses $SYS topics', () => refused('$SYS/broker', '1', 'forbidden_topic'));
  it('refuses provisioning by a connected device', () =>
    refused('$provision/offender', '', 'forbidden_topic'));
  it('refuses a batch that is not JSON', () =>
    refused('$resource.batch', '[{"timestamp":', 'malformed_batch'));
  it('refuses a batch item without values', () =>
    refused('$resource.batch', JSON.stringify([{ timestamp: 1 }]), 'malformed_batch'));
  it('refuses a batch timestamp more than a day ahead', () =>
    refused(
      '$resource.batch',
      JSON.stringify([{ timestamp: Date.now() / 1000 + 2 * 86400, values: { temp: 1 } }]),
      'invalid_value',
    ));
  it('refuses a value outside the resource definition', () =>
    refused('$resource/temp', '101', 'invalid_value'));
  it('refuses a number resource value that is not a number', () =>
    refused('$resource/temp', 'hot', 'invalid_value'));
  it('refuses a string value above 64 KiB', () =>
    refused('$resource/note', 'x'.repeat(65537), 'invalid_value'));
  it('refuses publishing as another identity without permission', async () => {
    await gw.device2.addIdentity({ identity: 'victim' });
    await refused('$as/victim/temp', '5', 'forbidden_topic');
    expect((await gw.device2.getIdentityState({ identity: 'victim' })).temp).toBeUndefined();
  });

  it('refuses subscriptions the gateway does not offer, and relays no device data to subscribers', async () => {
    const client = await device('subscriber');
    const granted = await client.subscribeAsync('$resource/#', { qos: 1 });
    expect(granted[0]!.qos).toBe(1);
    const received: string[] = [];
    client.on('message', (topic) => received.push(topic));
    const other = await device('chatty');
    await other.publishAsync('$resource/temp', '9', { qos: 1 });
    await gw.device2.setIdentityState({ identity: 'subscriber', unit: 'c' });
    await expect.poll(() => received).toEqual([expect.stringMatching(/^\$resource\/unit\/\d+$/)]);
    // MQTT.js rejects a SUBACK whose only grant is 0x80 (failure).
    await expect(client.subscribeAsync('#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await client.publishAsync('$resource/temp', '5', { qos: 1 });
    expect(client.connected).toBe(true);
  });

  it('keeps other devices and their acknowledged data unharmed when one device misbehaves', async () => {
    const good = await device('good');
    await good.publishAsync('$resource/temp', '42', { qos: 1 });
    await refused('$resource/temp', 'not a number', 'invalid_value');
    await good.publishAsync('$resource/temp', '43', { qos: 1 });
    expect((await gw.device2.getIdentityState({ identity: 'good' })).temp).toMatchObject({ reported: 43 });
    expect((await gw.device2.getIdentityState({ identity: 'offender' })).temp).toBeUndefined();
  });

  it('closes a socket that sends garbage instead of MQTT, and counts it', async () => {
    const good = await device('neighbour');
    const socket = connectTcp(gw.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\u00ff\u00fe garbage'));
    await closed;
    await expect
      .poll(() => gw.activity.filter((a) => a.reason === 'protocol_error').length)
      .toBeGreaterThan(0);
    await good.publishAsync('$resource/temp', '1', { qos: 1 });
  });
});
