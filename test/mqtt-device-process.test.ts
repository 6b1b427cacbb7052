import { createDevice2Client } from 'fleetgate/client';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from './support/gateway-process.js';

let gateway: RunningGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
});

function nextMessage(client: mqtt.MqttClient): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve) =>
    client.once('message', (topic, payload) => resolve({ topic, payload: payload.toString() })),
  );
}

describe('an MQTT device against the real gateway process', () => {
  it('provisions, publishes, receives a set value and acknowledges it', async () => {
    gateway = await startGateway();
    const api = createDevice2Client({ url: gateway.url, token: gateway.token() });
    await api.addResource({ alias: 'temp', format: 'number' });
    await api.addResource({ alias: 'setpoint', format: 'number', settable: true });
    const url = `mqtt://127.0.0.1:${gateway.ports.mqtt}`;

    const anonymous = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    const reply = nextMessage(anonymous);
    await anonymous.publishAsync('$provision/e2e-device', '', { qos: 1 });
    const { topic, payload: token } = await reply;
    expect(topic).toBe('$provision/e2e-device');
    await anonymous.endAsync();

    const device = await mqtt.connectAsync(url, { username: '', password: token, reconnectPeriod: 0 });
    await device.publishAsync('$resource/temp', '19.5', { qos: 1 });
    await expect.poll(async () => (await api.getIdentity({ identity: 'e2e-device' })).online).toBe(true);
    const setValue = nextMessage(device);
    await api.setIdentityState({ identity: 'e2e-device', setpoint: 21 });
    const pushed = await setValue;
    expect(pushed.topic).toMatch(/^\$resource\/setpoint\/\d{16}$/);
    await device.publishAsync('$resource/setpoint', pushed.payload, { qos: 1 });
    expect(await api.getIdentityState({ identity: 'e2e-device' })).toMatchObject({
      temp: { reported: 19.5 },
      setpoint: { set: 21, reported: 21 },
    });
    await device.endAsync();
    await expect.poll(async () => (await api.getIdentity({ identity: 'e2e-device' })).online).toBe(false);
    const metrics = await api.getDeviceMetrics({ metric_name: 'publish_count', aggregate_fn: 'sum' });
    expect(metrics.reduce((sum, m) => sum + m.value, 0)).toBe(2);
  });
});
