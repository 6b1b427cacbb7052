import type { Aedes, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import type {
  SignalFilter,
  SignalSession,
  SignalSink,
  SignalSubscriptions,
} from '../core/signal-subscriptions.js';

// Control characters are exactly what these refuse (the identity and alias rules).
// eslint-disable-next-line no-control-regex
const IDENTITY = /^[^/+#,\u0000-\u001f\u007f]+$/;
// eslint-disable-next-line no-control-regex
const SIGNAL = /^(?!__proto__$)[^.$/+#\u0000-\u001f\u007f]+$/;
/** Murano's docs write `s/deviceA/*`: a whole level `*` is taken as `+`. */
const ANY = new Set(['+', '*']);
/**
 * Samples sent at QoS 1 and not acknowledged yet, per connection; beyond, new samples are dropped
 * for it (and its session shows `overloaded`) rather than held without bound.
 */
export const MAX_AWAITING_ACK = 1000;

/**
 * `s/<identity>/<signal>`, `s/<identity>/#` or `s/#`, `+` or `*` standing for a whole level;
 * undefined for anything else.
 */
export function parseSignalFilter(topic: string): SignalFilter | undefined {
  const levels = topic.split('/');
  if (levels[0] !== 's') return undefined;
  if (levels.length === 2) return levels[1] === '#' ? { identity: null, signal: null } : undefined;
  if (levels.length !== 3) return undefined;
  const [, identity, signal] = levels as [string, string, string];
  const anyIdentity = ANY.has(identity);
  if (!anyIdentity && !IDENTITY.test(identity)) return undefined;
  const anySignal = ANY.has(signal) || signal === '#';
  if (!anySignal && !SIGNAL.test(signal)) return undefined;
  return { identity: anyIdentity ? null : identity, signal: anySignal ? null : signal };
}

/** The payload of a signal message (docs/time-series.md, "Signal subscriptions"). */
export function signalPayload(timestamp: number, value: unknown): Buffer {
  return Buffer.from(JSON.stringify({ timestamp, value }), 'utf8');
}

/** A QoS 1 publish to a connection, until its PUBACK. */
interface Awaiting {
  topic: string;
  payload: Buffer;
  /** Absent for a set value. */
  sample?: { identity: string; signal: string; timestamp: number };
}

interface ClientState {
  session: SignalSession;
  awaiting: Awaiting[];
  /** Subscriptions being checked. */
  checking: number;
}

const ignore = () => {};

/**
 * The MQTT side of signal subscriptions: SUBSCRIBE to s/… is checked and recorded in the core's
 * SignalSubscriptions, committed samples come back through a sink that publishes them to the
 * connection, and PUBACKs move the session's offset. aedes reports a PUBACK of a clean session
 * without saying which publish it acknowledges; MQTT 3.1.1 §4.6 has clients acknowledge QoS 1
 * publishes in the order they received them, so the oldest one awaiting is the one acknowledged.
 * That is why the set values sent to a subscribed connection are noted too (`sent`).
 */
export function createSignalSessions(deps: {
  signals: SignalSubscriptions;
  /** The authenticated device behind a connection, with its connection_id. */
  deviceOf: (client: Client) => { identity: string; connectionId: string } | undefined;
  logger: Logger;
}) {
  const { signals, logger } = deps;
  const states = new WeakMap<Client, ClientState>();

  function sinkFor(client: Client): SignalSink {
    return {
      send(identity, signal, samples, qos) {
        const state = states.get(client);
        if (!state) return 0;
        // A connection that closed without aedes reporting it (it never became ready).
        if (client.closed) {
          close(client);
          return 0;
        }
        const topic = `s/${identity}/${signal}`;
        // aedes caps a publish at the QoS of a subscription to its exact topic: do the same here, so
        // that every publish counted as awaiting a PUBACK really gets one.
        const own = state.session.subscriptions.get(topic);
        const level = own && own.qos < qos ? own.qos : qos;
        let sent = 0;
        for (const { timestamp, value } of samples) {
          if (level === 1 && state.awaiting.length >= MAX_AWAITING_ACK) break;
          const payload = signalPayload(timestamp, value);
          const packet = { cmd: 'publish', topic, payload, qos: level, retain: false, dup: false } as const;
          if (level === 1) {
            state.awaiting.push({ topic, payload, sample: { identity, signal, timestamp } });
            client.publish(packet, ignore);
          } else {
            client.publish(packet, (error) => {
              if (!error) signals.acknowledged(state.session, identity, signal, timestamp);
            });
          }
          sent++;
        }
        return sent;
      },
    };
  }

  function close(client: Client): void {
    const state = states.get(client);
    if (!state) return;
    states.delete(client);
    signals.close(state.session);
  }

  return {
    handles: (topic: string) => topic.startsWith('s/'),

    /** aedes' authorizeSubscribe for s/… topics: SUBACK 0x80 (null) unless allowed. */
    authorize(
      client: Client,
      subscription: Subscription,
      callback: (error: Error | null, subscription?: Subscription | null) => void,
    ): void {
      const filter = parseSignalFilter(subscription.topic);
      const device = deps.deviceOf(client);
      if (!filter || !device || client.closed) return callback(null, null);
      let state = states.get(client);
      if (!state) {
        state = {
          session: signals.open(device.connectionId, device.identity, sinkFor(client)),
          awaiting: [],
          checking: 0,
        };
        states.set(client, state);
      }
      const qos = Math.min(subscription.qos, 1) as 0 | 1;
      const current = state;
      current.checking++;
      // A connection without any signal subscription keeps no session (it could outlive the
      // connection, should aedes not report its end).
      const refuse = () => {
        const unused = current.checking === 0 && current.session.subscriptions.size === 0;
        if (unused && states.get(client) === current) close(client);
        callback(null, null);
      };
      signals.subscribe(current.session, subscription.topic, filter, qos).then(
        (allowed) => {
          current.checking--;
          if (allowed) callback(null, { ...subscription, qos });
          else refuse();
        },
        (error: unknown) => {
          current.checking--;
          logger.error({ err: error, topic: subscription.topic }, 'could not check a signal subscription');
          refuse();
        },
      );
    },

    /** A QoS 1 set value went to the connection: its PUBACK is not a sample's. */
    sent(client: Client, topic: string, payload: Buffer): void {
      states.get(client)?.awaiting.push({ topic, payload });
    },

    /** Follows PUBACKs, UNSUBSCRIBEs and disconnections. */
    attach(broker: Aedes): void {
      broker.on('ack', (packet, client) => {
        const state = states.get(client);
        if (!state || state.awaiting.length === 0) return;
        // A persistent session's PUBACK names its publish; one sent before this connection (a
        // resend of an earlier one) is none of ours.
        const acked = packet as PublishPacket | undefined;
        const index = acked
          ? state.awaiting.findIndex(
              (a) =>
                a.topic === acked.topic && Buffer.isBuffer(acked.payload) && a.payload.equals(acked.payload),
            )
          : 0;
        if (index < 0) return;
        const [done] = state.awaiting.splice(index, 1);
        if (done?.sample) {
          const { identity, signal, timestamp } = done.sample;
          signals.acknowledged(state.session, identity, signal, timestamp);
        }
      });
      broker.on('unsubscribe', (topics, client) => {
        const state = states.get(client);
        if (state) for (const topic of topics) signals.unsubscribe(state.session, topic);
      });
      broker.on('clientDisconnect', close);
    },
  };
}

export type SignalSessions = ReturnType<typeof createSignalSessions>;
