import { identityNotFound } from './errors.js';
import type { IdentityStore } from './ports.js';
import type {
  QuerySignalSubscribersParams,
  QuerySignalsSubscribersParams,
  SignalSubscribersResult,
} from './schemas/signal-subscribers.js';
import type { TimeSeriesStore } from './time-series-ports.js';
import { isoMicros } from './time-series-query.js';

export type SessionType = 'sync_to_cloud' | 'script_async' | 'mqtt_qos1';

/** One consumer of one signal of an identity (docs/time-series.md, "Subscribers"). */
export interface SubscriberSession {
  signal: string;
  sessionId: string;
  sessionType: SessionType;
  /** Who consumes: the subscribing device, the webhook, the handler module. */
  subscriber: string;
  /** µs: the reported time of the newest data delivered to it, null when none is known. */
  offset: number | null;
  status: string;
  /** µs: when the session last changed (a delivery, an acknowledgement, a failure). */
  lastUpdate: number | null;
}

/** A kind of consumer that can say which of its sessions take the signals of an identity. */
export interface SubscriberSource {
  sessions(identity: string, signals: string[]): SubscriberSession[] | Promise<SubscriberSession[]>;
}

const TYPE_ORDER: Record<SessionType, number> = { mqtt_qos1: 0, script_async: 1, sync_to_cloud: 2 };

/**
 * querySignalSubscribers and querySignalsSubscribers: the sessions of every source (MQTT signal
 * subscriptions, the event handler module, webhooks) that consume the signals. Sources are added
 * by the composition root as the consumers are started.
 */
export class SignalSubscribers {
  private readonly sources: SubscriberSource[] = [];

  constructor(
    private readonly deps: {
      identities: Pick<IdentityStore, 'existing'>;
      series: Pick<TimeSeriesStore, 'signals'>;
    },
  ) {}

  addSource(source: SubscriberSource): void {
    this.sources.push(source);
  }

  querySignalSubscribers(params: QuerySignalSubscribersParams): Promise<SignalSubscribersResult> {
    return this.query(params.identity, [params.signal]);
  }

  querySignalsSubscribers(params: QuerySignalsSubscribersParams): Promise<SignalSubscribersResult> {
    return this.query(params.identity, params.signals && [...new Set(params.signals)]);
  }

  /** A signal need not exist yet: a device may subscribe to it before its first sample. */
  private async query(identity: string, names: string[] | undefined): Promise<SignalSubscribersResult> {
    if ((await this.deps.identities.existing([identity])).size === 0) throw identityNotFound(identity);
    const signals = names ?? (await this.deps.series.signals(identity)).map((s) => s.signal);
    const found =
      signals.length === 0
        ? []
        : await Promise.all(this.sources.map(async (s) => s.sessions(identity, signals)));
    const sessions = found.flat();
    sessions.sort(
      (a, b) =>
        compare(a.signal, b.signal) ||
        TYPE_ORDER[a.sessionType] - TYPE_ORDER[b.sessionType] ||
        compare(a.sessionId, b.sessionId),
    );
    return {
      q: { identity, signals },
      data: sessions.map((s) => ({
        identity,
        signal_name: s.signal,
        session_id: s.sessionId,
        session_type: s.sessionType,
        subscriber: s.subscriber,
        offset: s.offset === null ? null : isoMicros(s.offset),
        status: s.status,
        last_update: s.lastUpdate === null ? null : isoMicros(s.lastUpdate),
      })),
    };
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
