import type { Clock } from '../core/clock.js';
import type { EventIds, EventLog, EventSource } from '../core/event-source.js';
import type { GatewayEvent } from '../core/events.js';
import type { NewDelivery, WebhookRecord, WebhookStore } from '../core/webhook-ports.js';
import { TurnBatches } from './turn-batches.js';

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
 * Its keeper makes acknowledgements wait for that transaction (EventPublisher.kept): an event
 * whose publish was acknowledged is in the outbox.
 */
export class WebhookOutbox {
  private matchers: Matcher[] = [];
  private unsubscribe: (() => void) | undefined;
  private readonly batches = new TurnBatches<GatewayEvent>((events) => this.write(events));

  constructor(private readonly deps: WebhookOutboxDeps) {}

  /** Follows the stored webhooks; subscribes to events only while there is at least one. */
  setWebhooks(webhooks: WebhookRecord[]): void {
    this.matchers = webhooks.map((w) => ({
      id: w.id,
      types: w.types && new Set(w.types),
      identities: w.identities && new Set(w.identities),
    }));
    if (this.matchers.length > 0 && !this.unsubscribe) {
      this.unsubscribe = this.deps.source.subscribe(
        (event) => this.batches.push(event),
        () => this.batches.kept(),
      );
    } else if (this.matchers.length === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  private async write(events: GatewayEvent[]): Promise<void> {
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
    try {
      await this.deps.store.enqueue(rows);
    } catch (err) {
      this.deps.log.error(
        { err, deliveries: rows.length },
        'could not queue webhook deliveries: these events are not delivered, and their publishes not acknowledged',
      );
      throw err;
    }
    this.deps.onQueued([...touched]);
  }

  /** Stops taking events and writes the ones already taken. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.batches.settled();
  }
}
