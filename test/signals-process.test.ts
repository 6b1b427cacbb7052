import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevice2Client, type Device2Client } from 'fleetgate/client';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from './support/gateway-process.js';
import { startReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const WAIT = { timeout: 20_000, interval: 50 };
const running: RunningGateway[] = [];
const clients: mqtt.MqttClient[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const tokenOf = (identity: string) => `${identity}-token-`.padEnd(40, '0');

async function start(options?: Parameters<typeof startGateway>[0]) {
  const gateway = await startGateway(options);
  running.push(gateway);
  return { gateway, api: createDevice2Client({ url: gateway.url, token: gateway.token() }) };
}

async function device(gateway: RunningGateway, api: Device2Client, identity: string) {
  await api.addIdentity({ identity, auth: { type: 'token', key: tokenOf(identity) } });
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.ports.mqtt}`, {
    username: '',
    password: tokenOf(identity),
    reconnectPeriod: 0,
  });
  clients.push(client);
  return client;
}

/** `2026-11-26T04:55:44.123456Z` for a time in µs, as the API writes times. */
const iso = (micros: number) =>
  `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;

describe('the signal parser, through the real process', () => {
  it('turns config_io channels into signals and data_in into their samples, from MQTT, HTTP and publishData', async () => {
    const { gateway, api } = await start();
    await api.addResource({ alias: 'config_io', format: 'string', settable: true });
    await api.addResource({ alias: 'data_in', format: 'string' });
    await api.updateGatewaySettings({ enable_signal_parser: true });
    const dev = await device(gateway, api, 'gw-1');
    const channels = async () =>
      (await api.latestSignalsSearch({ identities: ['gw-1'], sort_key: 'signal' })).data
        .filter((s) => s.resource === 'data_in' && s.signal_name !== 'data_in')
        .map((s) => `${s.signal_id}=${String(s.last_value)}`);

    const config = { channels: { '001': { display_name: 'Temperature' }, '002': { display_name: 'Door' } } };
    await dev.publishAsync('$resource/config_io', JSON.stringify(config), { qos: 1 });
    await dev.publishAsync('$resource/data_in', JSON.stringify({ '001': 21.5, '002': 'open', '003': 1 }), {
      qos: 1,
    });
    expect(await channels()).toEqual(['gw-1/001=21.5', 'gw-1/002=open']);
    const temperature = await api.querySignal({ identity: 'gw-1', signal: '001' });
    expect(temperature.data).toEqual([
      expect.objectContaining({ identity: 'gw-1', signal: '001', value: 21.5 }),
    ]);

    // A second config_io with other channels adds signals and keeps the earlier ones.
    await dev.publishAsync('$resource/config_io', JSON.stringify({ channels: { '003': {} } }), { qos: 1 });
    const written = await fetch(`${gateway.deviceUrl}/onep:v1/stack/alias`, {
      method: 'POST',
      headers: { 'x-exosite-cik': tokenOf('gw-1'), 'content-type': 'application/x-www-form-urlencoded' },
      body: `data_in=${encodeURIComponent(JSON.stringify({ '003': 7 }))}`,
    });
    expect(written.status).toBe(204);
    await api.publishData({
      identity: 'gw-1',
      payload: [
        { timestamp: Date.now() - 3_600_000, values: { data_in: JSON.stringify({ '002': 'closed' }) } },
      ],
    });
    expect(await channels()).toEqual(['gw-1/001=21.5', 'gw-1/002=open', 'gw-1/003=7']);
    expect((await api.querySignal({ identity: 'gw-1', signal: '002' })).data.map((d) => d.value)).toEqual([
      'open',
      'closed',
    ]);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^fleetgate_signal_parser_skipped_total\{reason="undefined_channel"\} 1$/m);

    // Off: config_io and data_in are stored as they are, and nothing is parsed.
    await api.updateGatewaySettings({ enable_signal_parser: false });
    await dev.publishAsync('$resource/config_io', JSON.stringify({ channels: { '004': {} } }), { qos: 1 });
    await dev.publishAsync('$resource/data_in', JSON.stringify({ '001': 99, '004': 1 }), { qos: 1 });
    expect(await channels()).toEqual(['gw-1/001=21.5', 'gw-1/002=open', 'gw-1/003=7']);
    expect(await api.getIdentityState({ identity: 'gw-1' })).toMatchObject({
      data_in: { reported: JSON.stringify({ '001': 99, '004': 1 }) },
    });
  });
});

describe('signal subscribers, through the real process', () => {
  it('delivers a signal to a permitted MQTT subscriber at QoS 1 and lists every session consuming it', async () => {
    const hooks = await startReceiver();
    receivers.push(hooks);
    const handler = join(mkdtempSync(join(tmpdir(), 'fleetgate-handler-')), 'handler.mjs');
    writeFileSync(handler, 'export default async function () {}\n');
    const { gateway, api } = await start({
      args: ['--event-handler', handler],
      env: { FLEETGATE_WEBHOOK_URL: hooks.url, FLEETGATE_WEBHOOK_SECRET: 'a-secret-of-sixteen-chars' },
    });
    await api.addResource({ alias: 'temp', format: 'number' });
    const a = await device(gateway, api, 'device-a');
    await api.addIdentity({ identity: 'device-b', auth: { type: 'token', key: tokenOf('device-b') } });
    await api.updateIdentityPermission({
      identity: 'device-b',
      permission: { subscript: { identities: ['device-a'] } },
    });
    const b = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.ports.mqtt}`, {
      username: '',
      password: tokenOf('device-b'),
      reconnectPeriod: 0,
    });
    clients.push(b);
    expect((await b.subscribeAsync('s/device-a/temp', { qos: 1 }))[0]?.qos).toBe(1);
    await expect(b.subscribeAsync('s/device-c/temp', { qos: 1 })).rejects.toThrow(/Subscribe error/);

    const received: { topic: string; qos: number; message: { timestamp: number; value: number } }[] = [];
    b.on('message', (topic, payload, packet) =>
      received.push({ topic, qos: packet.qos, message: JSON.parse(payload.toString()) as never }),
    );
    const sessionsOf = async () =>
      Object.fromEntries(
        (await api.querySignalSubscribers({ identity: 'device-a', signal: 'temp' })).data.map((s) => [
          s.session_type,
          s,
        ]),
      );

    await a.publishAsync('$resource/temp', '20', { qos: 1 });
    await expect.poll(() => received.length, WAIT).toBe(1);
    expect(received[0]).toMatchObject({ topic: 's/device-a/temp', qos: 1, message: { value: 20 } });
    const first = received[0]!.message.timestamp;
    await expect.poll(sessionsOf, WAIT).toMatchObject({
      mqtt_qos1: { subscriber: 'device-b', offset: iso(first), status: 'ok' },
      script_async: {
        session_id: 'event-handler',
        offset: iso(first),
        status: 'ok',
      },
      sync_to_cloud: {
        session_id: 'webhook:config',
        offset: iso(first),
        status: 'ok',
      },
    });

    await a.publishAsync('$resource/temp', '21', { qos: 1 });
    await expect.poll(() => received.length, WAIT).toBe(2);
    const second = received[1]!.message.timestamp;
    expect(second).toBeGreaterThan(first);
    await expect
      .poll(async () => Object.values(await sessionsOf()).map((s) => s.offset), WAIT)
      .toEqual([iso(second), iso(second), iso(second)]);

    const all = await api.querySignalsSubscribers({ identity: 'device-a' });
    expect(all.q.signals).toEqual(['temp']);
    expect(all.data.map((s) => `${s.signal_name}:${s.session_type}`)).toEqual([
      'temp:mqtt_qos1',
      'temp:script_async',
      'temp:sync_to_cloud',
    ]);
    await expect(api.querySignalSubscribers({ identity: 'nobody', signal: 'temp' })).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      api.querySignalsSubscribers({ identity: 'device-a', signals: ['a/b'] }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/signals/) as unknown,
    });
  });
});
