import type { Clock } from '../core/clock.js';
import type { EventIds, EventLog, EventSource } from '../core/event-source.js';
import type { GatewayEvent } from '../core/events.js';
import type { NewDelivery, WebhookRecord, WebhookStore } from '../core/webhook-ports.js';

interface Matcher {
  id: string;
  types: ReadonlySet<string> | null;
  identities: ReadonlySet<string> | null;
}

export interface WebhookOutboxDeps {
  source: EventSource;
  ids: EventIds;
  store: WebhookStore;
  clock: Clock;
  log: EventLog;
  /** Called once deliveries for these webhooks are committed. */
  onQueued: (webhookIds: string[]) => void;
}

/**
 * The publishing side of webhooks: puts each event in the outbox of every webhook whose filters
 * it passes. The publisher only pays for an array push: events are matched, serialised and written
 * once per turn of the event loop, in one transaction whatever their number (devices can publish
 * tens of thousands of events a second). With no webhook it is not subscribed at all.
 *
 * An event is durable once its turn's transaction commits; a crash before that (within one turn
 * of publishing) loses it for the webhooks.
 */
export class WebhookOutbox {
  private matchers: Matcher[] = [];
  private unsubscribe: (() => void) | undefined;
  private buffer: GatewayEvent[] = [];
  private flushScheduled = false;
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly deps: WebhookOutboxDeps) {}

  /** Follows the stored webhooks; subscribes to events only while there is at least one. */
  setWebhooks(webhooks: WebhookRecord[]): void {
    this.matchers = webhooks.map((w) => ({
      id: w.id,
      types: w.types && new Set(w.types),
      identities: w.identities && new Set(w.identities),
    }));
    if (this.matchers.length > 0 && !this.unsubscribe) {
      this.unsubscribe = this.deps.source.subscribe(this.onEvent);
    } else if (this.matchers.length === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  private readonly onEvent = (event: GatewayEvent): void => {
    this.buffer.push(event);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  };

  /** Writes what the current turn buffered. */
  flush(): void {
    this.flushScheduled = false;
    const events = this.buffer;
    this.buffer = [];
    const rows: NewDelivery[] = [];
    const touched = new Set<string>();
    const createdAt = this.deps.clock.nowMicros();
    for (const event of events) {
      let body: string | undefined;
      for (const m of this.matchers) {
        if (m.types && !m.types.has(event.type)) continue;
        if (m.identities && !m.identities.has(event.identity)) continue;
        body ??= JSON.stringify(event);
        rows.push({
          webhookId: m.id,
          identity: event.identity,
          eventId: this.deps.ids.idOf(event),
          body,
          createdAt,
        });
        touched.add(m.id);
      }
    }
    if (rows.length === 0) return;
    const write = this.deps.store.enqueue(rows).then(
      () => this.deps.onQueued([...touched]),
      (err: unknown) =>
        this.deps.log.error(
          { err, deliveries: rows.length },
          'could not queue webhook deliveries; these events are not delivered',
        ),
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  /** Stops taking events and writes the ones already taken. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.flush();
    await Promise.all(this.writes);
  }
}
