import type { PublishPacket } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { createPublishHandler } from './device-publishes.js';
import type { Session } from './mqtt-session.js';
import { startMqttGateway, type MqttGateway } from './test-mqtt.js';

let gw: MqttGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const device = { identity: 'd1', permission: {} };
const session = { device, ctx: { ip: null, protocol: 'mqtt', connectionId: 'c1' } } as unknown as Session;
const packet = (qos: 0 | 1 | 2, payload: string) =>
  ({
    cmd: 'publish',
    qos,
    topic: '$resource/temp',
    payload: Buffer.from(payload),
    retain: false,
    dup: false,
    messageId: 1,
  }) as unknown as PublishPacket;

describe('the MQTT publish handler', () => {
  it('answers a refused publish once, even when the answer throws', async () => {
    gw = await startMqttGateway();
    await gw.device2.addResource({ alias: 'temp', format: 'number' });
    await gw.device2.addIdentity({ identity: 'd1' });
    // The resource definitions are loaded: the refusals below come before the handler returns.
    await gw.devices.publish(device, session.ctx, { alias: 'temp', value: '1' }, 1);
    const handle = createPublishHandler(gw.devices);
    for (const refused of [packet(2, '1'), packet(1, 'warm')]) {
      const answers: (Error | undefined)[] = [];
      expect(() =>
        handle(session, refused, (error) => {
          answers.push(error);
          throw new Error('thrown by whoever was answered');
        }),
      ).toThrow('thrown by whoever was answered');
      expect(answers).toHaveLength(1);
      expect(answers[0]).toBeInstanceOf(Error);
    }
  });
});
