import type { PublishPacket } from 'aedes';
import type { DeviceService } from '../core/device-service.js';
import { MalformedBatch, parseBatch, parseDeviceTopic } from './device-topics.js';
import type { Session } from './mqtt-session.js';

/** CONTRACT §3 / device-protocols §2.1: 1 MiB per MQTT message. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** A publish the gateway refuses: its reason is counted, and the connection is closed. */
export class Refusal extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What a device's PUBLISH asks of the device use cases ($resource, $resource.batch, $as,
 * $provision); the promise settles once it is stored (then aedes sends the PUBACK) or refused.
 */
export function createPublishHandler(devices: DeviceService) {
  /**
   * Not async: on the hot path it returns the device service's promise as is, since every async
   * layer between the commit and the PUBACK is another promise and more microtasks per message.
   */
  function handlePublish(session: Session, packet: PublishPacket): Promise<void> {
    try {
      return publishOf(session, packet);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  function publishOf(session: Session, packet: PublishPacket): Promise<void> {
    if (packet.qos === 2) throw new Refusal('qos2', 'QoS 2 is not supported');
    const payload = packet.payload as Buffer;
    if (payload.length > MAX_MESSAGE_BYTES) throw new Refusal('payload_too_large', 'message above 1 MiB');
    const topic = parseDeviceTopic(packet.topic);
    if (!topic) throw new Refusal('forbidden_topic', `cannot publish to ${packet.topic}`);
    const { device, ctx } = session;
    if (topic.kind === 'provision') return provision(session, topic.identity, payload);
    if (!device) throw new Refusal('forbidden_topic', 'a connection without credentials may only provision');
    switch (topic.kind) {
      case 'resource':
      case 'as':
        return devices.publish(
          device,
          ctx,
          [{ values: { [topic.alias]: payload.toString('utf8') } }],
          payload.length,
          topic.kind === 'as' ? topic.identity : undefined,
        );
      case 'batch': {
        let records;
        try {
          records = parseBatch(payload);
        } catch (error) {
          if (error instanceof MalformedBatch) throw new Refusal('malformed_batch', error.message);
          throw error;
        }
        return devices.publish(device, ctx, records, payload.length);
      }
    }
  }

  async function provision(session: Session, identity: string, payload: Buffer): Promise<void> {
    if (session.device || session.provisionUsed || payload.length > 0)
      throw new Refusal(
        'forbidden_topic',
        'provisioning is one empty publish on a connection without credentials',
      );
    session.provisionUsed = true;
    const activated = await devices.activate(identity, session.ctx);
    // The PUBACK follows once the token is written: a device that hangs up at the PUBACK has it.
    await new Promise<void>((resolve) =>
      session.client.publish(
        {
          cmd: 'publish',
          topic: `$provision/${activated.identity}`,
          payload: Buffer.from(activated.token),
          qos: 0,
          retain: false,
          dup: false,
        },
        () => resolve(),
      ),
    );
  }

  return handlePublish;
}
