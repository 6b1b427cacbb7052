import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { newConnectionId } from '../core/connection-id.js';
import type { AuthenticatedDevice, ConnectionContext, DeviceCredentials } from '../core/device-auth.js';
import type { DeviceMetricsRecorder } from '../core/device-metrics.js';
import type { DeviceService } from '../core/device-service.js';
import { GatewayError, type ErrorCode } from '../core/errors.js';
import { normalizeIp } from '../core/provisioning-rules.js';
import type { SignalSubscriptions } from '../core/signal-subscriptions.js';
import { createPublishHandler, Refusal } from './device-publishes.js';
import { Session, sessionClientId } from './mqtt-session.js';
import { createMqttPersistence } from './offline-queues.js';
import { createSignalSessions } from './signal-sessions.js';
import { skipRoutingNobodyReceives } from './skip-routing.js';

/** The one table from domain error codes to CONNACK return codes (MQTT 3.1.1 §3.2.2.3). */
const CONNACK_CODE: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 4,
  FORBIDDEN: 5,
};
const SERVER_UNAVAILABLE = 3;
/** How long a connection waits at most for the one it takes over to be gone. */
const TAKEOVER_WAIT_MS = 5_000;
/** Topic filters that can only ever match what the gateway sends a device. */
const SUBSCRIBABLE = /^\$(resource\/(#|\+\/\+|\+\/#|[^/#+]+\/(#|\+))|provision\/(#|[^/#+]+))$/;
/** Set values ($resource/<alias>/<µs>, "" included) and provisioning replies; devices cannot publish these. */
const SET_VALUE = /^\$resource\/[^/]+\/\d+$/;
const PROVISION_REPLY = /^\$provision\/[^/]+$/;

function connackError(error: unknown): AuthenticateError {
  const code =
    error instanceof GatewayError ? (CONNACK_CODE[error.code] ?? SERVER_UNAVAILABLE) : SERVER_UNAVAILABLE;
  return Object.assign(new Error(error instanceof Error ? error.message : 'refused'), { returnCode: code });
}

export interface MqttBrokerDeps {
  devices: DeviceService;
  activity: DeviceMetricsRecorder;
  logger: Logger;
  /** Devices' subscriptions to signals (s/<identity>/<signal>); without it, they are refused. */
  signals?: SignalSubscriptions;
  /** How long a connection may go without sending CONNECT (ms). */
  connectTimeoutMs?: number;
  /** How long a device that stopped reading may hold deliveries to it before it is dropped (ms). */
  drainTimeoutMs?: number;
}

/**
 * The MQTT protocol engine (aedes) wired to the device use cases through its hooks: authenticate
 * gives the CONNACK, authorizePublish holds the PUBACK until the data is durable, and set values
 * go straight to the device with client.publish (devices never subscribe; CONTRACT §3). Signal
 * subscriptions (s/<identity>/<signal>) are signal-sessions.ts'.
 */
export async function createMqttBroker({
  devices,
  activity,
  logger,
  signals,
  connectTimeoutMs = 10_000,
  drainTimeoutMs = 10_000,
}: MqttBrokerDeps): Promise<Aedes> {
  const sessions = new WeakMap<Client, Session>();
  const refusedAtConnect = new WeakSet<Client>();
  const signalSessions =
    signals &&
    createSignalSessions({
      signals,
      deviceOf(client) {
        const session = sessions.get(client);
        return (
          session?.device && { identity: session.device.identity, connectionId: session.ctx.connectionId }
        );
      },
      logger,
    });

  function contextOf(client: Client): ConnectionContext {
    const socket = client.conn as Socket & Partial<TLSSocket>;
    return {
      ip: normalizeIp(socket.remoteAddress),
      protocol: socket.encrypted ? 'mqtts' : 'mqtt',
      connectionId: newConnectionId(),
      closeMark: devices.closeMark(),
    };
  }

  /** Who the client is, or undefined for a connection without credentials (it may only provision). */
  function identify(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    ctx: ConnectionContext,
  ): Promise<AuthenticatedDevice | undefined> {
    // The hot path of a connect storm: one promise chain, no async layers of its own.
    if (password && password.length > 0)
      return devices.authenticate(
        { type: 'secret', username: username ?? '', secret: password.toString('utf8') },
        ctx,
      );
    const socket = client.conn as Partial<TLSSocket>;
    if (!socket.encrypted) return Promise.resolve(undefined);
    // Inside the chain: whatever reading the certificate throws becomes a refusal.
    return Promise.resolve()
      .then(() => socket.getPeerX509Certificate?.())
      .then(async (certificate) => {
        if (!certificate) return undefined;
        const credentials: DeviceCredentials = await devices.certificateCredentials(certificate);
        return devices.authenticate(credentials, ctx);
      });
  }

  const broker = await Aedes.createBroker({
    persistence: createMqttPersistence(),
    // A stalled device must not hold deliveries to it for long.
    drainTimeout: drainTimeoutMs,
    // A socket that never sends CONNECT (a scanner, a stalled client) holds a slot until then.
    connectTimeout: connectTimeoutMs,
    maxClientsIdLength: 128,
    authenticate(client, username, password, done) {
      const ctx = contextOf(client);
      identify(client, username, password, ctx)
        .then((device) => {
          const session = new Session(client, ctx, device, signalSessions);
          sessions.set(client, session);
          client.id = sessionClientId(device?.identity, client.id, ctx.connectionId);
          // A connection that may only provision keeps no session: its id is its own, so one
          // kept would never be resumed nor cleaned.
          if (!device) (client as { clean: boolean }).clean = true;
          else return accept(client, session, device);
        })
        .then(
          () => done(null, true),
          (error: unknown) => {
            refusedAtConnect.add(client);
            const session = sessions.get(client);
            // Its connect may be raised already (then kept failed): its disconnect follows.
            if (session) end(session);
            done(connackError(error), false);
          },
        )
        // aedes' connect steps run inside `done`: a throw there is a bug to see, not a crash.
        .catch((error: unknown) => logger.error({ err: error }, 'MQTT connect failed after authentication'));
    },
    authorizePublish(client, packet, callback) {
      const session = client && sessions.get(client);
      if (!session) return callback(new Error('not connected'));
      // The Will of a connection the gateway closed (identity locked, removed, new credentials).
      if (session.closedByGateway) return callback(new Error('closed by the gateway'));
      // Retained messages would pile up in the broker's memory; devices have no use for them.
      packet.retain = false;
      session.publishing++;
      handlePublish(session, packet, (error) => {
        session.published();
        if (!error) return callback(null);
        const reason = error instanceof Refusal ? error.reason : undefined;
        if (reason) activity.record('connection_error', session.device?.identity ?? null, 1, reason);
        session.refused = true;
        logger.debug({ err: error, topic: packet.topic }, 'refused a device publish');
        // MQTT 3.1.1 cannot refuse one publish: closing the connection is the answer. It comes a
        // microtask later, so that the publishes after it in the same socket read are handled
        // (a QoS 0 one has no other chance to be stored).
        queueMicrotask(() => callback(error));
      });
    },
    authorizeSubscribe(client, subscription, callback) {
      if (signalSessions?.handles(subscription.topic))
        return signalSessions.authorize(client, subscription, callback);
      // Devices receive set values without subscribing; a subscription to them (as generic
      // clients such as mosquitto_sub make) is granted but changes nothing. Anything else gets a
      // SUBACK failure (0x80), and the connection stays up.
      if (!SUBSCRIBABLE.test(subscription.topic)) return callback(null, null);
      callback(null, { ...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1 });
    },
    authorizeForward(client, packet) {
      // Only what the gateway addresses to this device goes out: a device's publishes are never
      // relayed to other devices, whatever they subscribed to.
      // (A device's own $provision publish is empty; the gateway's reply carries the token.)
      // Devices cannot publish to s/… (authorizePublish refuses it): these are signal messages.
      if (signalSessions?.handles(packet.topic)) return packet;
      const { topic, payload } = packet;
      if (SET_VALUE.test(topic)) {
        // What a resumed session held unacknowledged, of a sync resource: the state, not this
        // queue, says whether it is still pending (a newer one may have replaced it), and
        // connecting sends it. Other set values are only in this queue.
        const resuming = client && sessions.get(client)?.linked === false;
        return resuming && devices.resendsOnConnect(topic.slice(10, topic.lastIndexOf('/'))) ? null : packet;
      }
      return PROVISION_REPLY.test(topic) && payload.length > 0 ? packet : null;
    },
  });
  signalSessions?.attach(broker);
  skipRoutingNobodyReceives(broker, (client) => sessions.has(client));
  const handlePublish = createPublishHandler(devices);

  /** Device connections by client id, from their authentication on (a client id names one session). */
  const registered = new Map<string, Session>();
  /** Until aedes reports a connection ready, how its socket closing ends it (aedes may say nothing). */
  const untilReady = new WeakMap<Client, () => void>();

  /**
   * Before the CONNACK: the device's `connect` is raised and kept (DeviceService.announce). A
   * connection of the same identity and client id, which aedes would take over at registration, is
   * closed first, so that its disconnect comes before this connect. A connection closed meanwhile,
   * or a broker closing, announces nothing (aedes then drops the connection without a word).
   */
  async function accept(client: Client, session: Session, device: AuthenticatedDevice): Promise<void> {
    const gone = () => client.closed || broker.closed;
    if (gone()) return drop(client);
    const taken = registered.get(client.id);
    registered.set(client.id, session);
    if (taken) await takeOver(taken);
    const accepted = !gone() && (await devices.announce(device, session.ctx, session, () => !gone()));
    if (!accepted) {
      end(session);
      return drop(client);
    }
    const closed = () => end(session);
    untilReady.set(client, closed);
    client.conn.once('close', closed);
    if (client.closed || client.conn.destroyed) end(session);
  }

  /** A connection that will not be acknowledged: aedes leaves it open when the broker is closing. */
  function drop(client: Client): void {
    if (!client.closed) client.close();
  }

  /** Closes `taken` and waits for its disconnect, or for `TAKEOVER_WAIT_MS` should aedes never report it gone. */
  async function takeOver(taken: Session): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      taken.onEnded(resolve);
      taken.client.close();
      timer = setTimeout(resolve, TAKEOVER_WAIT_MS);
    });
    clearTimeout(timer);
  }

  /** A connection is over: its disconnect is raised, after the data_in of what it published. */
  function end(session: Session): void {
    const { device, client } = session;
    // Its socket closed before aedes reported it ready, and aedes reported it gone too.
    if (session.over) return;
    session.over = true;
    session.linked = false;
    if (registered.get(client.id) === session) registered.delete(client.id);
    if (!device) return session.ended();
    // The data_in of a publish still being stored (a QoS 0 publish just before DISCONNECT, a Will)
    // comes before the disconnect: events of one identity are in order.
    session.afterPublishes(() => {
      // Called again for the same connection (its socket closed, and aedes reported it), it raises nothing.
      devices.disconnect(device, session.ctx, session).catch((error: unknown) => {
        logger.error({ err: error, identity: device.identity }, 'could not record a device disconnection');
      });
      session.ended();
    });
  }

  broker.on('clientReady', (client) => {
    const session = sessions.get(client);
    const device = session?.device;
    if (!session || !device) return;
    const closed = untilReady.get(client);
    if (closed) client.conn.removeListener('close', closed);
    untilReady.delete(client);
    // Its socket closed meanwhile, and its disconnect is raised: aedes did not notice in time.
    if (session.over) return client.close();
    session.linked = true;
    devices.connect(device, session.ctx, session).catch((error: unknown) => {
      logger.error({ err: error, identity: device.identity }, 'could not record a device connection');
    });
  });

  broker.on('clientDisconnect', (client) => {
    const session = sessions.get(client);
    if (session) end(session);
  });

  // Garbage on the socket, a CONNECT that never comes, a protocol violation: aedes closes it.
  broker.on('connectionError', (client, error) => {
    if (refusedAtConnect.has(client)) return;
    activity.record('connection_error', null, 1, 'protocol_error');
    logger.debug({ err: error }, 'device connection error');
  });
  broker.on('clientError', (client, error) => {
    const session = sessions.get(client);
    if (session?.refused || refusedAtConnect.has(client)) return;
    activity.record('connection_error', session?.device?.identity ?? null, 1, 'protocol_error');
    logger.debug({ err: error }, 'device client error');
  });

  return broker;
}
