import type { Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await gw.close();
});

/** A consumer that stores events at least once, whose stores the test lets finish by hand. */
function heldConsumer() {
  const waiting: (() => void)[] = [];
  let held = true;
  return {
    keep: () => (held ? new Promise<void>((resolve) => waiting.push(resolve)) : undefined),
    release() {
      held = false;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

async function addDevice(identity: string) {
  await gw.device2.addIdentity({ identity, auth: { type: 'token', key: tokenFor(`${identity}A`) } });
}

function connecting(identity: string, clientId?: string) {
  const client = mqtt.connect(gw.url, {
    username: '',
    password: tokenFor(`${identity}A`),
    reconnectPeriod: 0,
    ...(clientId && { clientId, clean: false }),
  });
  clients.push(client);
  return client;
}

const connectionEvents = (identity: string) =>
  gw.events
    .filter((event) => event.identity === identity && /connect/.test(event.type))
    .map((event) => `${event.type} ${event.connection_id}`);

/** The types of an identity's connect and disconnect events, in order. */
const connectionEventTypes = (identity: string) =>
  connectionEvents(identity).map((event) => event.split(' ')[0]);

/** A gateway whose consumer holds what it stores, and a device of it whose `connect` is raised and held. */
async function heldConnect(identity: string, clientId?: string) {
  const consumer = heldConsumer();
  gw = await startMqttGateway({ keep: consumer.keep });
  await addDevice(identity);
  const client = connecting(identity, clientId);
  await expect.poll(() => connectionEvents(identity)).toHaveLength(1);
  return { consumer, client };
}

describe('connect and disconnect events of MQTT devices', () => {
  it('raises connect, stored by the consumers, before the CONNACK', async () => {
    const { consumer, client } = await heldConnect('d1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Not acknowledged while its event is not stored.
    expect(client.connected).toBe(false);
    consumer.release();
    await expect.poll(() => client.connected).toBe(true);
    expect(gw.events.filter((event) => event.identity === 'd1').map((event) => event.type)).toEqual([
      'connect',
    ]);
  });

  it('raises the disconnect of a connection that closes before it is acknowledged', async () => {
    const { consumer, client } = await heldConnect('d2');
    (client.stream as Socket).destroy();
    // The gateway sees the socket close while the connect is not yet acknowledged: aedes then
    // drops the connection without a word.
    await new Promise((resolve) => setTimeout(resolve, 100));
    consumer.release();
    await expect.poll(() => connectionEventTypes('d2')).toEqual(['connect', 'disconnect']);
    const [connect, disconnect] = connectionEvents('d2');
    expect(connect!.split(' ')[1]).toBe(disconnect!.split(' ')[1]);
    expect(gw.devices.connectedCount()).toBe(0);
  });

  it("raises a taken-over connection's disconnect before the connect of the one taking it over", async () => {
    gw = await startMqttGateway();
    await addDevice('d3');
    const first = connecting('d3', 'same-id');
    await expect.poll(() => first.connected).toBe(true);
    // A second connection with the same client id (a device reconnecting over a half-open one).
    const second = connecting('d3', 'same-id');
    await expect.poll(() => second.connected).toBe(true);
    await expect.poll(() => connectionEvents('d3')).toHaveLength(3);
    const [connect1, disconnect1, connect2] = connectionEvents('d3');
    expect(connectionEventTypes('d3')).toEqual(['connect', 'disconnect', 'connect']);
    expect(disconnect1!.split(' ')[1]).toBe(connect1!.split(' ')[1]);
    expect(connect2!.split(' ')[1]).not.toBe(connect1!.split(' ')[1]);
    await expect.poll(() => gw.devices.connectedCount()).toBe(1);
    expect((await gw.device2.getIdentity({ identity: 'd3' })).online).toBe(true);
  });

  it('takes over a connection of the same client id that is itself still being accepted, in order', async () => {
    const { consumer, client: first } = await heldConnect('d4', 'same-id');
    let firstClosed = false;
    (first.stream as Socket).once('close', () => (firstClosed = true));
    const second = connecting('d4', 'same-id');
    // The second closes the first, whose connect is not kept yet, before it announces itself.
    await expect.poll(() => firstClosed).toBe(true);
    consumer.release();
    await expect.poll(() => second.connected).toBe(true);
    await expect.poll(() => connectionEvents('d4')).toHaveLength(3);
    expect(connectionEventTypes('d4')).toEqual(['connect', 'disconnect', 'connect']);
  });

  it('does not let a connection that closed while it was authenticated take over the live one', async () => {
    gw = await startMqttGateway();
    await addDevice('d5');
    const live = connecting('d5', 'same-id');
    await expect.poll(() => live.connected).toBe(true);
    const authenticate = gw.devices.authenticate.bind(gw.devices);
    let authenticating = 0;
    gw.devices.authenticate = async (...args) => {
      authenticating++;
      await new Promise((resolve) => setTimeout(resolve, 300));
      return authenticate(...args);
    };
    const late = connecting('d5', 'same-id');
    await expect.poll(() => authenticating).toBe(1);
    (late.stream as Socket).destroy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(live.connected).toBe(true);
    expect(connectionEventTypes('d5')).toEqual(['connect']);
  });

  it('gives a connect cut short by a stop its disconnect, and closes its socket', async () => {
    const { consumer, client } = await heldConnect('d6');
    const socketClosed = new Promise((resolve) => (client.stream as Socket).once('close', resolve));
    await new Promise<void>((resolve) => gw.broker.close(() => resolve()));
    consumer.release();
    await socketClosed;
    await expect.poll(() => connectionEventTypes('d6')).toEqual(['connect', 'disconnect']);
  });
});
