import type { GatewayEvent } from '../core/events.js';
import type { SubscriberSession, SubscriberSource } from '../core/signal-subscribers.js';

interface Progress {
  /** Newest reported time in the data_in events handled without error; null before any. */
  offset: number | null;
  lastUpdate: number;
  failed: boolean;
}

/** Identities whose progress is kept; beyond, the least recently handled are forgotten. */
const MAX_IDENTITIES = 100_000;

/**
 * The event handler module as a signal consumer (`script_async`): it receives every data_in event,
 * so it consumes every signal of every identity. What it has handled lives in memory only (its
 * queue is stored): after a restart, or for an identity forgotten beyond MAX_IDENTITIES, the offset is
 * null until its next data_in.
 */
export class EventHandlerSessions implements SubscriberSource {
  private readonly progress = new Map<string, Progress>();

  constructor(
    private readonly deps: {
      /** Events of the identity queued or being handled. */
      waiting: (identity: string) => Promise<number>;
      now: () => number;
      maxIdentities?: number;
    },
  ) {}

  /** A call of the handler ended (`ok` false: it threw, rejected or ran out of time). */
  settled(event: GatewayEvent, ok: boolean): void {
    if (event.type !== 'data_in') return;
    const previous = this.progress.get(event.identity);
    let offset = previous?.offset ?? null;
    if (ok)
      for (const { timestamp } of event.payload ?? [])
        if (offset === null || timestamp > offset) offset = timestamp;
    this.progress.delete(event.identity);
    this.progress.set(event.identity, { offset, lastUpdate: this.deps.now(), failed: !ok });
    if (this.progress.size > (this.deps.maxIdentities ?? MAX_IDENTITIES))
      this.progress.delete(this.progress.keys().next().value!);
  }

  async sessions(identity: string, signals: string[]): Promise<SubscriberSession[]> {
    const progress = this.progress.get(identity);
    const status = (await this.deps.waiting(identity)) > 0 ? 'pending' : progress?.failed ? 'failed' : 'ok';
    return signals.map((signal) => ({
      signal,
      sessionId: 'event-handler',
      sessionType: 'script_async',
      subscriber: 'event-handler',
      offset: progress?.offset ?? null,
      status,
      lastUpdate: progress?.lastUpdate ?? null,
    }));
  }
}
