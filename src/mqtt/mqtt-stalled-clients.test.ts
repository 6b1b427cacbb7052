import { connect as connectTcp, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];

async function device(identity: string) {
  const token = tokenFor(`${identity}A`);
  await gw.device2.addIdentity({ identity, auth: { type: 'token', key: token } });
  const client = await mqtt.connectAsync(gw.url, { username: '', password: token, reconnectPeriod: 0 });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** A device on a bare socket (MQTT 3.1.1 CONNECT with an empty username and the token), after its CONNACK. */
async function rawConnect(token: string): Promise<Socket> {
  const socket = connectTcp(gw.port, '127.0.0.1');
  socket.on('error', () => {});
  const str = (text: string) => {
    const bytes = Buffer.from(text);
    return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  };
  // Protocol "MQTT" level 4; flags: username, password, clean session; keep-alive 0.
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 0]), str(''), str(''), str(token)]);
  socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
  const connack = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
  expect([...connack]).toEqual([0x20, 2, 0, 0]);
  return socket;
}

beforeEach(async () => {
  gw = await startMqttGateway({ connectTimeoutMs: 300, drainTimeoutMs: 300 });
  await gw.device2.addResource({ alias: 'blob', format: 'string', settable: true });
  await gw.device2.addResource({ alias: 'temp', format: 'number' });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await gw.close();
});

describe('slow and stalled MQTT clients', () => {
  it('closes a connection that never sends CONNECT, while other devices carry on', async () => {
    const good = await device('steady');
    const silent = connectTcp(gw.port, '127.0.0.1');
    const closed = new Promise((resolve) => silent.once('close', resolve));
    await good.publishAsync('$resource/temp', '1', { qos: 1 });
    await closed;
    await good.publishAsync('$resource/temp', '2', { qos: 1 });
    expect((await gw.device2.getIdentityState({ identity: 'steady' })).temp).toMatchObject({ reported: 2 });
  });

  it('drops a device that stops reading while set values pile up, without holding up the others', async () => {
    await gw.device2.addIdentity({ identity: 'stalled', auth: { type: 'token', key: tokenFor('stalledA') } });
    const stalled = await rawConnect(tokenFor('stalledA'));
    const good = await device('lively');
    await expect.poll(() => gw.devices.connectedCount()).toBe(2);
    // The device stops reading its socket: what the gateway writes to it backs up.
    stalled.pause();
    const value = 'x'.repeat(60_000);
    for (let i = 0; i < 300; i++)
      await gw.device2.setIdentityState({ identity: 'stalled', blob: `${i}${value}` });
    await good.publishAsync('$resource/temp', '3', { qos: 1 });
    // The gateway has let go of it (the paused socket itself notices only once it reads again).
    await expect.poll(() => gw.devices.connectedCount(), { timeout: 10_000 }).toBe(1);
    stalled.destroy();
    await good.publishAsync('$resource/temp', '4', { qos: 1 });
    expect((await gw.device2.getIdentityState({ identity: 'lively' })).temp).toMatchObject({ reported: 4 });
    // The set value is still pending: it is sent again when the device comes back.
    expect((await gw.device2.getIdentityState({ identity: 'stalled' })).blob!.reported).toBeUndefined();
  });
});
