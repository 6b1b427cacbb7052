import type { Clock } from './clock.js';
import type { Sample } from './device-ports.js';
import type { ResourceValue } from './schemas/common.js';
import type { IdentityPermission } from './schemas/identity.js';
import type { SubscriberSession, SubscriberSource } from './signal-subscribers.js';

/** What a subscription selects: a name per level, or null for any (MQTT `+`, `#`, `*`). */
export interface SignalFilter {
  identity: string | null;
  signal: string | null;
}

export interface SignalDelivery {
  timestamp: number;
  value: ResourceValue;
}

/** How a session's samples reach its device (the MQTT edge publishes on s/<identity>/<signal>). */
export interface SignalSink {
  /**
   * Sends samples of a signal in order; returns how many it sent (it drops the rest when too many
   * await acknowledgement). Each one sent is reported back through `acknowledged` once the device
   * has it.
   */
  send(identity: string, signal: string, samples: readonly SignalDelivery[], qos: 0 | 1): number;
}

interface Subscription {
  session: SignalSession;
  key: string;
  filter: SignalFilter;
  qos: 0 | 1;
  since: number;
}

interface Progress {
  offset: number;
  lastUpdate: number;
}

/** Series whose offsets a session remembers; beyond, the least recently delivered are forgotten. */
const MAX_PROGRESS = 10_000;

/** One connection's signal subscriptions. */
export class SignalSession {
  /** By key (the MQTT topic filter). */
  readonly subscriptions = new Map<string, Subscription>();
  /** By `<identity>/<signal>`. */
  readonly progress = new Map<string, Progress>();
  awaiting = 0;
  droppedSinceAck = 0;
  failedSinceAck = false;
  closed = false;

  constructor(
    readonly id: string,
    readonly subscriber: string,
    readonly sink: SignalSink,
  ) {}
}

const seriesKey = (identity: string, signal: string) => `${identity}/${signal}`;

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function remove<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set?.delete(value) && set.size === 0) map.delete(key);
}

/**
 * Signal subscriptions of devices (s/<identity>/<signal>): which sessions take which series, what
 * each was sent and what it acknowledged. Committed samples are fanned out from here; with no
 * subscription at all that costs one comparison per write.
 */
export class SignalSubscriptions implements SubscriberSource {
  private readonly exact = new Map<string, Map<string, Set<Subscription>>>();
  /** Every signal of an identity, by identity. */
  private readonly anySignal = new Map<string, Set<Subscription>>();
  /** A signal of every identity, by signal. */
  private readonly anyIdentity = new Map<string, Set<Subscription>>();
  private readonly everything = new Set<Subscription>();
  private readonly bySubscriber = new Map<string, Set<SignalSession>>();
  private count = 0;

  constructor(
    private readonly deps: {
      /** The subscriber's permission as stored now (not a connection's copy). */
      permission: (identity: string) => Promise<IdentityPermission | undefined>;
      clock: Clock;
    },
  ) {}

  open(id: string, subscriber: string, sink: SignalSink): SignalSession {
    const session = new SignalSession(id, subscriber, sink);
    add(this.bySubscriber, subscriber, session);
    return session;
  }

  /**
   * Subscribes if the subscriber may read the signals the filter selects: its own always, another
   * identity's when its `permission.subscript` names it or holds "*"; a filter over every identity
   * needs "*". false when refused (or the session closed meanwhile).
   */
  async subscribe(session: SignalSession, key: string, filter: SignalFilter, qos: 0 | 1): Promise<boolean> {
    if (!(await this.allowed(session.subscriber, filter)) || session.closed) return false;
    this.unsubscribe(session, key);
    const subscription: Subscription = { session, key, filter, qos, since: this.deps.clock.nowMicros() };
    session.subscriptions.set(key, subscription);
    this.index(subscription, true);
    return true;
  }

  unsubscribe(session: SignalSession, key: string): void {
    const subscription = session.subscriptions.get(key);
    if (!subscription) return;
    session.subscriptions.delete(key);
    this.index(subscription, false);
  }

  close(session: SignalSession): void {
    session.closed = true;
    for (const key of [...session.subscriptions.keys()]) this.unsubscribe(session, key);
    remove(this.bySubscriber, session.subscriber, session);
  }

  /** The subscriber's permission changed: subscriptions it no longer allows end now. */
  async permissionChanged(subscriber: string): Promise<void> {
    for (const session of [...(this.bySubscriber.get(subscriber) ?? [])]) {
      for (const subscription of [...session.subscriptions.values()]) {
        if (!(await this.allowed(subscriber, subscription.filter)))
          this.unsubscribe(session, subscription.key);
      }
    }
  }

  /** Samples of an identity were committed: each subscribed session gets them, oldest first. */
  committed(identity: string, samples: readonly Sample[]): void {
    if (this.count === 0) return;
    const wildcards = this.anyIdentity.size > 0 || this.everything.size > 0;
    if (!wildcards && !this.exact.has(identity) && !this.anySignal.has(identity)) return;
    const bySignal = new Map<string, SignalDelivery[]>();
    for (const sample of samples) {
      let deliveries = bySignal.get(sample.signal);
      if (!deliveries) bySignal.set(sample.signal, (deliveries = []));
      deliveries.push({ timestamp: sample.timestamp, value: sample.value });
    }
    for (const [signal, deliveries] of bySignal) {
      const targets = this.matching(identity, signal);
      if (targets.size === 0) continue;
      deliveries.sort((a, b) => a.timestamp - b.timestamp);
      for (const [session, qos] of targets) {
        let sent = 0;
        try {
          sent = session.sink.send(identity, signal, deliveries, qos);
        } catch {
          // A subscriber's connection failing is no failure of the publisher's write, which is
          // committed: the session shows it instead.
          session.failedSinceAck = true;
        }
        session.awaiting += sent;
        if (sent < deliveries.length) session.droppedSinceAck += deliveries.length - sent;
      }
    }
  }

  /** The device has a sample (PUBACK, or written for QoS 0): the session's offset may move. */
  acknowledged(session: SignalSession, identity: string, signal: string, timestamp: number): void {
    if (session.awaiting > 0) session.awaiting--;
    session.droppedSinceAck = 0;
    session.failedSinceAck = false;
    const key = seriesKey(identity, signal);
    const progress = session.progress.get(key);
    const now = this.deps.clock.nowMicros();
    // Re-inserted: the map's order is then least recently delivered first.
    session.progress.delete(key);
    session.progress.set(key, {
      offset: progress && progress.offset > timestamp ? progress.offset : timestamp,
      lastUpdate: now,
    });
    if (session.progress.size > MAX_PROGRESS) session.progress.delete(session.progress.keys().next().value!);
  }

  sessions(identity: string, signals: string[]): SubscriberSession[] {
    if (this.count === 0) return [];
    const found: SubscriberSession[] = [];
    for (const signal of signals) {
      for (const [session] of this.matching(identity, signal)) {
        const progress = session.progress.get(seriesKey(identity, signal));
        let since = Infinity;
        for (const s of session.subscriptions.values())
          if (matches(s.filter, identity, signal)) since = Math.min(since, s.since);
        found.push({
          signal,
          sessionId: session.id,
          sessionType: 'mqtt_qos1',
          subscriber: session.subscriber,
          offset: progress?.offset ?? null,
          status: status(session),
          lastUpdate: progress?.lastUpdate ?? since,
        });
      }
    }
    return found;
  }

  private async allowed(subscriber: string, filter: SignalFilter): Promise<boolean> {
    if (filter.identity === subscriber) return true;
    const identities = (await this.deps.permission(subscriber))?.subscript?.identities ?? [];
    if (identities.includes('*')) return true;
    return filter.identity !== null && identities.includes(filter.identity);
  }

  /** The sessions taking a series, each with the highest QoS of its subscriptions that match. */
  private matching(identity: string, signal: string): Map<SignalSession, 0 | 1> {
    const targets = new Map<SignalSession, 0 | 1>();
    const take = (subscriptions: Set<Subscription> | undefined) => {
      if (!subscriptions) return;
      for (const { session, qos } of subscriptions)
        if ((targets.get(session) ?? -1) < qos) targets.set(session, qos);
    };
    take(this.exact.get(identity)?.get(signal));
    take(this.anySignal.get(identity));
    take(this.anyIdentity.get(signal));
    take(this.everything);
    return targets;
  }

  private index(subscription: Subscription, adding: boolean): void {
    const { identity, signal } = subscription.filter;
    this.count += adding ? 1 : -1;
    const change = adding ? add : remove;
    if (identity === null && signal === null) {
      if (adding) this.everything.add(subscription);
      else this.everything.delete(subscription);
    } else if (identity === null) change(this.anyIdentity, signal!, subscription);
    else if (signal === null) change(this.anySignal, identity, subscription);
    else {
      let bySignal = this.exact.get(identity);
      if (!bySignal) this.exact.set(identity, (bySignal = new Map<string, Set<Subscription>>()));
      change(bySignal, signal, subscription);
      if (bySignal.size === 0) this.exact.delete(identity);
    }
  }
}

function status(session: SignalSession): string {
  if (session.failedSinceAck) return 'failed';
  if (session.droppedSinceAck > 0) return 'overloaded';
  return session.awaiting > 0 ? 'sending' : 'ok';
}

function matches(filter: SignalFilter, identity: string, signal: string): boolean {
  return (
    (filter.identity === null || filter.identity === identity) &&
    (filter.signal === null || filter.signal === signal)
  );
}
