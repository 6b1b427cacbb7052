import type { PublishPacket } from 'aedes';
import type { AuthenticatedDevice } from '../core/device-auth.js';
import type { PublishDone } from '../core/device-publish.js';
import type { DeviceService } from '../core/device-service.js';
import type { PublishContent } from '../core/publish-values.js';
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
 * $provision); `done` is called once it is stored (then aedes sends the PUBACK) or refused.
 */
export function createPublishHandler(devices: DeviceService) {
  /**
   * A callback, not a promise (see DevicePublish). The checks that may refuse the publish at once
   * run before it is handed over, so that `done` is called once even if it throws.
   */
  function handlePublish(session: Session, packet: PublishPacket, done: PublishDone): void {
    let publish: Publish;
    try {
      publish = publishOf(session, packet);
    } catch (error) {
      return done(toError(error));
    }
    if (publish.kind === 'provision')
      return void provision(session, publish.identity, packet.payload as Buffer).then(
        () => done(),
        (error: unknown) => done(toError(error)),
      );
    devices.publishThen(publish.device, session.ctx, publish.content, publish.bytes, publish.as, done);
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

const toError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** What a PUBLISH asks, once checked. */
type Publish =
  | { kind: 'provision'; identity: string }
  | {
      kind: 'publish';
      device: AuthenticatedDevice;
      content: PublishContent;
      bytes: number;
      as: string | undefined;
    };

function publishOf(session: Session, packet: PublishPacket): Publish {
  if (packet.qos === 2) throw new Refusal('qos2', 'QoS 2 is not supported');
  const payload = packet.payload as Buffer;
  if (payload.length > MAX_MESSAGE_BYTES) throw new Refusal('payload_too_large', 'message above 1 MiB');
  const topic = parseDeviceTopic(packet.topic);
  if (!topic) throw new Refusal('forbidden_topic', `cannot publish to ${packet.topic}`);
  const { device } = session;
  if (topic.kind === 'provision') return topic;
  if (!device) throw new Refusal('forbidden_topic', 'a connection without credentials may only provision');
  if (topic.kind === 'batch') {
    try {
      return { kind: 'publish', device, content: parseBatch(payload), bytes: payload.length, as: undefined };
    } catch (error) {
      if (error instanceof MalformedBatch) throw new Refusal('malformed_batch', error.message);
      throw error;
    }
  }
  return {
    kind: 'publish',
    device,
    content: { alias: topic.alias, value: payload.toString('utf8') },
    bytes: payload.length,
    as: topic.kind === 'as' ? topic.identity : undefined,
  };
}
