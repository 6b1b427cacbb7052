import type { RetryPolicy } from '../core/backoff.js';
import { retryDelayMs } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import type { EventLog } from '../core/event-source.js';
import { deliveryHeaders } from '../core/webhook-signature.js';
import type {
  PendingDelivery,
  WebhookRecord,
  WebhookStore,
  WebhookTransport,
} from '../core/webhook-ports.js';

export interface DeliveryOptions {
  /** Deliveries in flight at once per webhook, each for another identity. */
  concurrency: number;
  /** How long one attempt may take. */
  timeoutMs: number;
  retry: RetryPolicy;
  random: () => number;
}

export interface DeliveryDeps {
  store: WebhookStore;
  transport: WebhookTransport;
  clock: Clock;
  log: EventLog;
  options: DeliveryOptions;
}

/** A wait longer than this is cut short and the due lanes are simply looked up again. */
const MAX_SLEEP_MS = 60_000;

/**
 * Delivers one webhook's outbox. Each identity's deliveries form a lane, delivered one at a time
 * in queue order; up to `concurrency` lanes are in flight at once. A lane whose first delivery
 * failed waits for its retry, and only once that delivery succeeded or was moved to the failed
 * list does the next one go. Nothing but the deliveries in flight is held in memory: which lane
 * is due when is in the store, so a restart resumes where the last run stopped.
 */
export class WebhookDeliveryLoop {
  private readonly inFlight = new Map<string, AbortController>();
  private readonly settling = new Set<Promise<void>>();
  private pumping = false;
  private pumpAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private webhook: WebhookRecord,
    private readonly deps: DeliveryDeps,
  ) {}

  /** New settings (URL, secret) apply from the next attempt on. */
  update(webhook: WebhookRecord): void {
    this.webhook = webhook;
  }

  /** Looks for due deliveries now (after new ones were queued, say). */
  wake(): void {
    if (this.stopped) return;
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const free = this.deps.options.concurrency - this.inFlight.size;
        if (free <= 0) return; // a finishing delivery wakes the loop
        const due = await this.deps.store.due(
          this.webhook.id,
          this.deps.clock.nowMicros(),
          [...this.inFlight.keys()],
          free,
        );
        if (this.stopped) return;
        for (const delivery of due) this.start(delivery);
        if (due.length === free) this.pumpAgain = true;
        else await this.sleepUntilNextDue();
      } while (this.pumpAgain && !this.stopped);
    } catch (err) {
      this.deps.log.error({ err, webhook: this.webhook.id }, 'webhook delivery loop failed; retrying');
      this.sleep(1_000);
    } finally {
      this.pumping = false;
    }
  }

  private async sleepUntilNextDue(): Promise<void> {
    const next = await this.deps.store.nextDue(this.webhook.id, [...this.inFlight.keys()]);
    if (next === undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else {
      this.sleep((next - this.deps.clock.nowMicros()) / 1000);
    }
  }

  private sleep(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => this.wake(), Math.min(MAX_SLEEP_MS, Math.max(0, Math.ceil(ms))));
    this.timer.unref();
  }

  private start(delivery: PendingDelivery): void {
    const controller = new AbortController();
    this.inFlight.set(delivery.identity, controller);
    const done = this.attempt(delivery, controller.signal)
      .catch((err: unknown) =>
        this.deps.log.error({ err, webhook: this.webhook.id }, 'could not record a webhook delivery outcome'),
      )
      .finally(() => {
        this.inFlight.delete(delivery.identity);
        this.settling.delete(done);
        this.wake();
      });
    this.settling.add(done);
  }

  private async attempt(delivery: PendingDelivery, signal: AbortSignal): Promise<void> {
    const { store, transport, clock, options } = this.deps;
    const webhook = this.webhook;
    const attempt = delivery.attempts + 1;
    const result = await transport.post({
      url: webhook.url,
      headers: deliveryHeaders({
        webhookId: webhook.id,
        eventId: delivery.eventId,
        eventType: eventType(delivery.body),
        attempt,
        secret: webhook.secret,
        body: delivery.body,
        sentAtMs: clock.nowMicros() / 1000,
      }),
      body: delivery.body,
      timeoutMs: options.timeoutMs,
      signal,
    });
    // Stopped mid-attempt: the delivery stays as it was, and is made again by the next run.
    if (signal.aborted) return;
    const now = clock.nowMicros();
    if (result.ok) return store.delivered(delivery, now);
    if (attempt >= options.retry.maxAttempts) {
      this.deps.log.warn(
        { webhook: webhook.id, identity: delivery.identity, eventId: delivery.eventId, error: result.error },
        'webhook delivery failed for good; kept in the failed list',
      );
      return store.fail(delivery, attempt, result.error, now);
    }
    const wait = retryDelayMs(options.retry, attempt, options.random);
    return store.postpone(delivery, attempt, result.error, now + wait * 1000);
  }

  /** Aborts the attempts in flight (they will be made again) and waits for them to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const controller of this.inFlight.values()) controller.abort();
    await Promise.all(this.settling);
  }
}

function eventType(body: string): string {
  try {
    return String((JSON.parse(body) as { type?: unknown }).type);
  } catch {
    return 'unknown';
  }
}
