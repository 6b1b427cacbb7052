import { connect as connectTcp, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closedByServer, startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];
const sockets: Socket[] = [];

async function connect(options: mqtt.IClientOptions) {
  const client = await mqtt.connectAsync(gw.url, { reconnectPeriod: 0, ...options });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

async function device(identity: string, options: mqtt.IClientOptions = {}) {
  const token = tokenFor(`${identity}A`);
  if (!(await gw.device2.listIdentities({})).devices.some((d) => d.identity === identity))
    await gw.device2.addIdentity({ identity, auth: { type: 'token', key: token } });
  return connect({ username: '', password: token, ...options });
}

const str = (text: string) => {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};

/** A bare socket that reads what the gateway sends and never acknowledges it. */
async function rawClient(options: { clientId: string; token?: string; clean: boolean }) {
  const socket = connectTcp(gw.port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  const credentials = options.token === undefined ? [] : [str(''), str(options.token)];
  const flags = (options.token === undefined ? 0 : 0xc0) | (options.clean ? 0x02 : 0);
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, 0, 0]),
    str(options.clientId),
    ...credentials,
  ]);
  socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
  await expect.poll(() => received.length).toBeGreaterThanOrEqual(4);
  expect([...received.subarray(0, 4)]).toEqual([0x20, 2, 0, 0]);
  return {
    socket,
    /** Packet types (high nibble of each fixed header) received so far, CONNACK first. */
    packets(): number[] {
      const types: number[] = [];
      for (let at = 0; at < received.length;) {
        types.push(received[at]! >> 4);
        let length = 0;
        let shift = 0;
        let byte;
        do {
          byte = received[++at]!;
          length += (byte & 0x7f) << shift;
          shift += 7;
        } while (byte & 0x80);
        at += 1 + length;
      }
      return types;
    },
    publish(topic: string, packetId: number) {
      const variable = Buffer.concat([str(topic), Buffer.from([packetId >> 8, packetId & 0xff])]);
      socket.write(Buffer.concat([Buffer.from([0x32, variable.length]), variable]));
    },
  };
}

const PUBLISH = 3;
const PUBACK = 4;

/**
 * Device `resumer` (client id `mine`, a persistent session) is sent these set values, acknowledges
 * none of them, and drops its connection.
 */
async function leaveUnacknowledged(sets: Record<string, string | number>[]) {
  await gw.device2.addIdentity({ identity: 'resumer', auth: { type: 'token', key: tokenFor('resumerA') } });
  const first = await rawClient({ clientId: 'mine', token: tokenFor('resumerA'), clean: false });
  await expect.poll(() => gw.devices.connectedCount()).toBe(1);
  for (const values of sets) await gw.device2.setIdentityState({ identity: 'resumer', ...values });
  await expect.poll(() => first.packets().filter((type) => type === PUBLISH).length).toBe(sets.length);
  first.socket.destroy();
  await expect.poll(() => gw.devices.connectedCount()).toBe(0);
}

/** The device comes back to its persistent session; `received` collects `<alias>=<value>`. */
async function resume(identity: string, clientId: string) {
  const client = await device(identity, { clientId, clean: false });
  const received: string[] = [];
  client.on('message', (topic, payload) => received.push(`${topic.split('/')[1]}=${payload.toString()}`));
  return { client, received };
}

beforeEach(async () => {
  gw = await startMqttGateway();
  await gw.device2.addResource({ alias: 'mode', format: 'string', settable: true });
  await gw.device2.addResource({ alias: 'temp', format: 'number' });
  await gw.device2.addResource({ alias: 'level', format: 'number', settable: true, sync: false });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  for (const socket of sockets.splice(0)) socket.destroy();
  await gw.close();
});

describe('MQTT sessions belong to identities', () => {
  it("does not let a client without credentials take over a device's connection by its client id", async () => {
    const victim = await device('victim', { clientId: 'shared' });
    await connect({ clientId: 'shared' });
    await victim.publishAsync('$resource/temp', '1', { qos: 1 });
    expect(victim.connected).toBe(true);
    expect((await gw.device2.getIdentity({ identity: 'victim' })).online).toBe(true);
  });

  it('does not let another device take over a connection by its client id', async () => {
    const victim = await device('victim', { clientId: 'shared' });
    await device('intruder', { clientId: 'shared' });
    await victim.publishAsync('$resource/temp', '2', { qos: 1 });
    expect(victim.connected).toBe(true);
  });

  it("keeps a persistent session's unacknowledged set values from a client that reuses its client id", async () => {
    await gw.device2.addIdentity({ identity: 'victim', auth: { type: 'token', key: tokenFor('victimA') } });
    const victim = await rawClient({ clientId: 'shared', token: tokenFor('victimA'), clean: false });
    await expect.poll(() => gw.devices.connectedCount()).toBe(1);
    await gw.device2.setIdentityState({ identity: 'victim', mode: 'secret' });
    await expect.poll(() => victim.packets()).toContain(PUBLISH);
    victim.socket.destroy();
    await expect.poll(() => gw.devices.connectedCount()).toBe(0);

    const received: string[] = [];
    const anonymous = await connect({ clientId: 'shared', clean: false });
    anonymous.on('message', (topic) => received.push(topic));
    const intruder = await device('intruder', { clientId: 'shared', clean: false });
    intruder.on('message', (topic) => received.push(topic));
    // A round trip on each: what a resumed session holds is sent right after the CONNACK.
    await anonymous.subscribeAsync('$provision/#');
    await intruder.subscribeAsync('$resource/#');
    expect(received).toEqual([]);

    // The device itself gets it again when it comes back, once.
    const back = await resume('victim', 'shared');
    await expect.poll(() => back.received).toEqual(['mode=secret']);
    await back.client.subscribeAsync('$resource/#');
    expect(back.received).toEqual(['mode=secret']);
  });

  it('sends a resumed session only the set values still pending, once each', async () => {
    await leaveUnacknowledged([{ mode: 'old' }, { mode: 'new' }]);
    const back = await resume('resumer', 'mine');
    await expect.poll(() => back.received).toEqual(['mode=new']);
    await back.client.subscribeAsync('$resource/#');
    expect(back.received).toEqual(['mode=new']);
  });

  it('sends a resumed session the set values of resources without sync that it held unacknowledged', async () => {
    await leaveUnacknowledged([{ level: 4 }]);
    const back = await resume('resumer', 'mine');
    await expect.poll(() => back.received).toEqual(['level=4']);
  });

  it('keeps no session for connections without credentials, whatever they ask', async () => {
    for (let i = 0; i < 3; i++) {
      const client = await connect({ clientId: 'prov', clean: false });
      await client.subscribeAsync('$provision/#', { qos: 1 });
      await client.endAsync();
    }
    const { persistence } = gw.broker as unknown as {
      persistence: { countOffline(): Promise<{ subsCount: number; clientsCount: number }> };
    };
    expect(await persistence.countOffline()).toMatchObject({ subsCount: 0, clientsCount: 0 });
  });

  it('closes a connection whose identity is locked while it is being accepted, without counting it', async () => {
    await gw.device2.addIdentity({ identity: 'racer', auth: { type: 'token', key: tokenFor('racerA') } });
    const device = await gw.devices.authenticate(
      { type: 'token', token: tokenFor('racerA') },
      {
        ip: null,
        protocol: 'mqtt',
        connectionId: 'c1',
      },
    );
    // The mark is taken before authenticating; the lock lands before the connection is ready.
    const ctx = {
      ip: null,
      protocol: 'mqtt' as const,
      connectionId: 'c1',
      closeMark: gw.devices.closeMark(),
    };
    await gw.device2.updateIdentity({ identity: 'racer', locked: true });
    const closed: string[] = [];
    const link = { deliver() {}, close: (reason: string) => closed.push(reason) };
    await gw.devices.connect(device, ctx, link);
    expect(closed).toEqual(['closed while connecting']);
    expect(gw.devices.connectedCount()).toBe(0);
    await gw.devices.disconnect(device, ctx, link);
    expect(gw.events.filter((e) => e.identity === 'racer' && /connect/.test(e.type))).toEqual([]);
    expect((await gw.device2.getIdentity({ identity: 'racer' })).online).toBe(false);
  });

  it('does not store the Will of a connection closed because its identity was locked', async () => {
    const will = { topic: '$resource/temp', payload: Buffer.from('99'), qos: 0 as const, retain: false };
    const locked = await device('locked', { will });
    const dropped = await device('dropped', { will: { ...will, payload: Buffer.from('98') } });
    await expect.poll(() => gw.devices.connectedCount()).toBe(2);
    const closed = closedByServer(locked);
    await gw.device2.updateIdentity({ identity: 'locked', locked: true });
    await closed;
    // A connection lost without DISCONNECT: its Will is published, and stored as its data.
    (dropped as unknown as { stream: Socket }).stream.destroy();
    await expect
      .poll(async () => (await gw.device2.getIdentityState({ identity: 'dropped' })).temp?.reported)
      .toBe(98);
    expect((await gw.device2.getIdentityState({ identity: 'locked' })).temp).toBeUndefined();
  });

  it('raises the data_in of a publish sent just before DISCONNECT before the disconnect event', async () => {
    await gw.device2.addIdentity({ identity: 'brief', auth: { type: 'token', key: tokenFor('briefA') } });
    for (let round = 0; round < 5; round++) {
      const socket = connectTcp(gw.port, '127.0.0.1');
      socket.on('error', () => {});
      sockets.push(socket);
      const body = Buffer.concat([
        str('MQTT'),
        Buffer.from([4, 0xc2, 0, 0]),
        str(''),
        str(''),
        str(tokenFor('briefA')),
      ]);
      const topic = str('$resource/temp');
      const value = Buffer.from(String(round));
      // CONNECT, a QoS 0 PUBLISH and DISCONNECT in one write, as mosquitto_pub sends them.
      socket.write(
        Buffer.concat([
          Buffer.from([0x10, body.length]),
          body,
          Buffer.from([0x30, topic.length + value.length]),
          topic,
          value,
          Buffer.from([0xe0, 0]),
        ]),
      );
    }
    const ofBrief = () => gw.events.filter((e) => e.identity === 'brief');
    await expect.poll(() => ofBrief().filter((e) => e.type === 'disconnect').length).toBe(5);
    for (const connection of new Set(ofBrief().map((e) => (e as { connection_id: string }).connection_id)))
      expect(
        ofBrief()
          .filter((e) => (e as { connection_id: string }).connection_id === connection)
          .map((e) => e.type),
      ).toEqual(['connect', 'data_in', 'disconnect']);
  });

  it('answers a provisioning publish with the token before the PUBACK', async () => {
    await gw.device2.updateGatewaySettings({ provisioning: { enabled: true, presenter_identity: true } });
    const client = await rawClient({ clientId: '', clean: true });
    client.publish('$provision/newcomer', 7);
    await expect.poll(() => client.packets().length).toBe(3);
    expect(client.packets().slice(1)).toEqual([PUBLISH, PUBACK]);
  });
});
