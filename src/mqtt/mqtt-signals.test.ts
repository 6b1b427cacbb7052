import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isoMicros } from '../core/time-series-query.js';
import { closedByServer, nextMessage, startMqttGateway, tokenFor, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway;
const clients: mqtt.MqttClient[] = [];

/** Connects as the identity and waits until the gateway has registered the connection. */
async function device(identity: string) {
  const before = gw.devices.connectedCount();
  const client = await mqtt.connectAsync(gw.url, {
    username: '',
    password: tokenFor(identity),
    reconnectPeriod: 0,
  });
  clients.push(client);
  await expect.poll(() => gw.devices.connectedCount()).toBe(before + 1);
  return client;
}

/** Holds the PUBACK of every message the client receives until `release` is called for it. */
function holdAcks(client: mqtt.MqttClient) {
  const held: { topic: string; payload: string; release: () => void }[] = [];
  client.handleMessage = (packet, callback) => {
    held.push({ topic: packet.topic, payload: packet.payload.toString(), release: () => callback() });
  };
  return held;
}

const subscribers = (identity: string, signal: string) =>
  gw.device2.querySignalSubscribers({ identity, signal }).then((r) => r.data);

beforeEach(async () => {
  gw = await startMqttGateway();
  await gw.device2.addResource({ alias: 'temp', format: 'number' });
  await gw.device2.addResource({ alias: 'mode', format: 'string', settable: true });
  for (const identity of ['sensor', 'display', 'other'])
    await gw.device2.addIdentity({ identity, auth: { type: 'token', key: tokenFor(identity) } });
  await gw.device2.updateIdentityPermission({
    identity: 'display',
    permission: { subscript: { identities: ['sensor'] } },
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await gw.close();
});

describe('signal subscriptions over MQTT', () => {
  it('sends another identity’s samples at QoS 1 on s/<identity>/<signal>, and moves the offset on PUBACK', async () => {
    const sensor = await device('sensor');
    const display = await device('display');
    const granted = await display.subscribeAsync('s/sensor/temp', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    const [session] = await subscribers('sensor', 'temp');
    expect(session).toMatchObject({
      identity: 'sensor',
      signal_name: 'temp',
      session_type: 'mqtt_qos1',
      subscriber: 'display',
      offset: null,
      status: 'ok',
    });
    const held = holdAcks(display);
    await sensor.publishAsync('$resource/temp', '21.5', { qos: 1 });
    await expect.poll(() => held.length).toBe(1);
    const message = JSON.parse(held[0]!.payload) as { timestamp: number; value: number };
    expect(held[0]!.topic).toBe('s/sensor/temp');
    expect(message.value).toBe(21.5);
    const stored = await gw.device2.querySignal({ identity: 'sensor', signal: 'temp' });
    expect(stored.data[0]).toMatchObject({ reported_time: message.timestamp });
    expect((await subscribers('sensor', 'temp'))[0]).toMatchObject({ offset: null, status: 'sending' });
    held[0]!.release();
    await expect
      .poll(async () => (await subscribers('sensor', 'temp'))[0])
      .toMatchObject({ offset: isoMicros(message.timestamp), status: 'ok', session_id: session!.session_id });
  });

  it('refuses (SUBACK 0x80) what permission.subscript does not allow, keeping the connection', async () => {
    const display = await device('display');
    // MQTT.js rejects a SUBACK whose only grant is 0x80, with the SUBACK attached.
    const grants = (topic: string) =>
      display.subscribeAsync(topic, { qos: 1 }).then(
        (granted) => granted[0]!.qos,
        (error: { packet?: { granted?: number[] } }) => error.packet?.granted?.[0],
      );
    expect(await grants('s/other/temp')).toBe(128);
    expect(await grants('s/+/temp')).toBe(128);
    expect(await grants('s/#')).toBe(128);
    expect(await grants('s/sensor/a.b')).toBe(128);
    expect(await grants('s/sensor/*')).toBe(1);
    expect(await grants('s/display/#')).toBe(1);
    expect(display.connected).toBe(true);
    await gw.device2.updateIdentityPermission({
      identity: 'display',
      permission: { subscript: { identities: ['*'] } },
    });
    expect(await grants('s/+/temp')).toBe(1);
    expect((await subscribers('other', 'temp')).map((s) => s.subscriber)).toEqual(['display']);
  });

  it('grants the allowed filters of one SUBSCRIBE and refuses the others, each on its own', async () => {
    const sensor = await device('sensor');
    const display = await device('display');
    const granted = await display
      .subscribeAsync(['s/other/temp', 's/sensor/temp', 's/x/y/z'], { qos: 1 })
      .then(
        (grants) => grants.map((g) => g.qos),
        (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
      );
    expect(granted).toEqual([128, 1, 128]);
    const message = nextMessage(display);
    await sensor.publishAsync('$resource/temp', '7', { qos: 1 });
    expect(await message).toMatchObject({ topic: 's/sensor/temp' });
  });

  it('treats s/<identity>/* as every signal of the identity, and stops when the permission is withdrawn', async () => {
    const sensor = await device('sensor');
    const display = await device('display');
    await display.subscribeAsync('s/sensor/*', { qos: 1 });
    const first = nextMessage(display);
    await sensor.publishAsync('$resource/mode', 'eco', { qos: 1 });
    expect(await first).toMatchObject({ topic: 's/sensor/mode' });
    await gw.device2.updateIdentityPermission({
      identity: 'display',
      permission: { subscript: { identities: [] } },
    });
    expect(await subscribers('sensor', 'mode')).toEqual([]);
    const received: string[] = [];
    display.on('message', (topic) => received.push(topic));
    await sensor.publishAsync('$resource/mode', 'off', { qos: 1 });
    await display.subscribeAsync('s/display/temp', { qos: 1 });
    const own = await device('display');
    const ownMessage = nextMessage(display);
    await own.publishAsync('$resource/temp', '1', { qos: 1 });
    expect(await ownMessage).toMatchObject({ topic: 's/display/temp' });
    expect(received).toEqual(['s/display/temp']);
  });

  it('tells the PUBACKs of set values from those of samples', async () => {
    const sensor = await device('sensor');
    const display = await device('display');
    await display.subscribeAsync('s/sensor/temp', { qos: 1 });
    const held = holdAcks(display);
    await gw.device2.setIdentityState({ identity: 'display', mode: 'eco' });
    await expect.poll(() => held.length).toBe(1);
    // Sent while the set value awaits its PUBACK (MQTT.js takes the next message once it is acked).
    await sensor.publishAsync('$resource/temp', '3', { qos: 1 });
    const setValueAcked = new Promise((resolve) => gw.broker.once('ack', resolve));
    held[0]!.release();
    await setValueAcked;
    await expect.poll(() => held.length).toBe(2);
    expect(held.map((h) => h.topic)).toEqual([
      expect.stringMatching(/^\$resource\/mode\/\d+$/),
      's/sensor/temp',
    ]);
    const sample = JSON.parse(held[1]!.payload) as { timestamp: number };
    // The set value's PUBACK must not have counted as the sample's.
    expect((await subscribers('sensor', 'temp'))[0]).toMatchObject({ offset: null, status: 'sending' });
    held[1]!.release();
    await expect
      .poll(async () => (await subscribers('sensor', 'temp'))[0]?.offset)
      .toBe(isoMicros(sample.timestamp));
  });

  it('checks the subscriptions of a persistent session again when it reconnects, and follows its PUBACKs', async () => {
    const sensor = await device('sensor');
    const options = { username: '', password: tokenFor('display'), reconnectPeriod: 0, clean: false };
    const first = await mqtt.connectAsync(gw.url, { ...options, clientId: 'display-1' });
    await first.subscribeAsync('s/sensor/temp', { qos: 1 });
    await first.endAsync();
    await expect.poll(() => subscribers('sensor', 'temp')).toEqual([]);
    const again = await mqtt.connectAsync(gw.url, { ...options, clientId: 'display-1' });
    clients.push(again);
    await expect.poll(async () => (await subscribers('sensor', 'temp')).length).toBe(1);
    const message = nextMessage(again);
    await sensor.publishAsync('$resource/temp', '4', { qos: 1 });
    const { timestamp } = JSON.parse((await message).payload) as { timestamp: number };
    await expect
      .poll(async () => (await subscribers('sensor', 'temp'))[0]?.offset)
      .toBe(isoMicros(timestamp));
  });

  it('ends the session with the connection or an UNSUBSCRIBE', async () => {
    const sensor = await device('sensor');
    const display = await device('display');
    await display.subscribeAsync('s/sensor/temp', { qos: 0 });
    const message = new Promise<{ qos: number; payload: string }>((resolve) =>
      display.once('message', (_topic, payload, packet) =>
        resolve({ qos: packet.qos, payload: payload.toString() }),
      ),
    );
    await sensor.publishAsync('$resource/temp', '5', { qos: 1 });
    const { qos, payload } = await message;
    expect(qos).toBe(0);
    // At QoS 0 the offset moves once the sample is written to the connection.
    await expect
      .poll(async () => (await subscribers('sensor', 'temp'))[0])
      .toMatchObject({
        subscriber: 'display',
        offset: isoMicros((JSON.parse(payload) as { timestamp: number }).timestamp),
        status: 'ok',
      });
    await display.unsubscribeAsync('s/sensor/temp');
    await expect.poll(() => subscribers('sensor', 'temp')).toEqual([]);
    const again = await device('display');
    await again.subscribeAsync('s/sensor/+', { qos: 1 });
    expect(await subscribers('sensor', 'temp')).toHaveLength(1);
    await again.endAsync();
    await expect.poll(() => subscribers('sensor', 'temp')).toEqual([]);
  });
});

describe('the signal parser over MQTT', () => {
  beforeEach(async () => {
    await gw.device2.addResource({ alias: 'config_io', format: 'string', settable: true });
    await gw.device2.addResource({ alias: 'data_in', format: 'string', retention: '36' });
    await gw.device2.updateGatewaySettings({ enable_signal_parser: true });
  });

  const channels = (identity: string) =>
    gw.device2
      .latestSignalsSearch({ identities: [identity] })
      .then((r) =>
        r.data
          .filter((s) => s.resource === 'data_in' && s.signal_name !== 'data_in')
          .map((s) => [s.signal_name, s.last_value]),
      );

  it('parses config_io and data_in of a $resource.batch and of $as, and sends channel samples to subscribers', async () => {
    await gw.device2.updateGatewaySettings({ permission: { gateway: ['sensor'] } });
    const sensor = await device('sensor');
    const display = await device('display');
    await display.subscribeAsync('s/sensor/001', { qos: 1 });
    const delivered = nextMessage(display);
    const t = Date.now() * 1000;
    await sensor.publishAsync(
      '$resource.batch',
      JSON.stringify([
        {
          timestamp: t - 2000,
          values: { config_io: JSON.stringify({ channels: { '001': { display_name: 'T' } } }) },
        },
        { timestamp: t - 1000, values: { data_in: JSON.stringify({ '001': 20.5, '009': 1 }) } },
      ]),
      { qos: 1 },
    );
    expect(JSON.parse((await delivered).payload)).toEqual({ timestamp: t - 1000, value: 20.5 });
    expect(await channels('sensor')).toEqual([['001', '20.5']]);
    expect(
      gw.query(
        'SELECT signal, metadata FROM signals WHERE resource = ? AND signal != ?',
        'data_in',
        'data_in',
      ),
    ).toEqual([{ signal: '001', metadata: '{"display_name":"T"}' }]);
    await sensor.publishAsync('$as/other/config_io', JSON.stringify({ channels: { '002': {} } }), { qos: 1 });
    await sensor.publishAsync('$as/other/data_in', JSON.stringify({ '002': 'on' }), { qos: 1 });
    expect(await channels('other')).toEqual([['002', 'on']]);
  });

  it('stores a config_io it cannot parse as a value, defines no signal, and keeps the connection', async () => {
    const sensor = await device('sensor');
    let wasClosed = false;
    void closedByServer(sensor).then(() => (wasClosed = true));
    await sensor.publishAsync('$resource/config_io', '{"channels": "none"}', { qos: 1 });
    await sensor.publishAsync('$resource/data_in', '{"001": 1}', { qos: 1 });
    expect(await gw.device2.getIdentityState({ identity: 'sensor' })).toMatchObject({
      config_io: { reported: '{"channels": "none"}' },
      data_in: { reported: '{"001": 1}' },
    });
    expect(await channels('sensor')).toEqual([]);
    expect(wasClosed).toBe(false);
    expect(sensor.connected).toBe(true);
  });
});
