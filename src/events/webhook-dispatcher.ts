import { DEFAULT_RETRY_POLICY } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import type { EventIds, EventLog, EventSource } from '../core/event-source.js';
import type { WebhookDeliveryControl, WebhookStore, WebhookTransport } from '../core/webhook-ports.js';
import { WebhookDeliveryLoop, type DeliveryOptions } from './webhook-delivery.js';
import { WebhookOutbox } from './webhook-outbox.js';

export interface WebhookDispatcherDeps {
  source: EventSource;
  ids: EventIds;
  store: WebhookStore;
  transport: WebhookTransport;
  clock: Clock;
  log: EventLog;
  options?: Partial<DeliveryOptions>;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  concurrency: 16,
  timeoutMs: 10_000,
  retry: DEFAULT_RETRY_POLICY,
  random: Math.random,
};

/**
 * Webhook delivery as a whole: the outbox that takes events, and one delivery loop per webhook.
 * It follows the stored webhooks (`reload`), which the management use cases call after a change.
 */
export class WebhookDispatcher implements WebhookDeliveryControl {
  private readonly loops = new Map<string, WebhookDeliveryLoop>();
  private readonly outbox: WebhookOutbox;
  private readonly options: DeliveryOptions;
  private reloading: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly deps: WebhookDispatcherDeps) {
    this.options = { ...DEFAULT_DELIVERY_OPTIONS, ...deps.options };
    this.outbox = new WebhookOutbox({
      source: deps.source,
      ids: deps.ids,
      store: deps.store,
      clock: deps.clock,
      log: deps.log,
      onQueued: (ids) => ids.forEach((id) => this.wake(id)),
    });
  }

  /** Reloads are chained, so that two changes in quick succession apply in order. */
  reload(): Promise<void> {
    const reload = this.reloading.then(() => this.applyStoredWebhooks());
    // The caller sees a failure; the chain, and a later stop, go on regardless.
    this.reloading = reload.catch(() => {});
    return reload;
  }

  private async applyStoredWebhooks(): Promise<void> {
    if (this.stopped) return;
    const webhooks = await this.deps.store.list();
    if (this.stopped) return;
    this.outbox.setWebhooks(webhooks);
    const current = new Set(webhooks.map((w) => w.id));
    for (const [id, loop] of this.loops) {
      if (current.has(id)) continue;
      this.loops.delete(id);
      this.track(loop.stop());
    }
    for (const webhook of webhooks) {
      const loop = this.loops.get(webhook.id);
      if (loop) {
        loop.update(webhook);
        continue;
      }
      const created = new WebhookDeliveryLoop(webhook, { ...this.deps, options: this.options });
      this.loops.set(webhook.id, created);
      created.wake();
    }
  }

  wake(webhookId: string): void {
    this.loops.get(webhookId)?.wake();
  }

  /** Starts delivering what the store holds, and takes events from then on. */
  start(): Promise<void> {
    return this.reload();
  }

  /**
   * Writes the events already taken to the outbox, then stops the deliveries in flight (they are
   * made again at the next start). Call before closing the store.
   */
  async stop(): Promise<void> {
    await this.reloading;
    this.stopped = true;
    await this.outbox.stop();
    for (const loop of this.loops.values()) this.track(loop.stop());
    this.loops.clear();
    await Promise.all(this.stopping);
  }

  private track(stop: Promise<void>): void {
    this.stopping.add(stop);
    void stop.finally(() => this.stopping.delete(stop));
  }
}
