import type { EventType } from './schemas/event.js';

/**
 * Webhook ports. Deliveries wait in an outbox until they succeed or run out of attempts; the
 * deliveries of one identity to one webhook form a lane, delivered strictly in order, while lanes
 * proceed independently. All timestamps are µs since the epoch.
 */

export interface WebhookRecord {
  id: string;
  url: string;
  secret: string;
  /** null: every type. */
  types: EventType[] | null;
  /** null: every identity. */
  identities: string[] | null;
  /** `config`: the webhook of the configuration, which the configuration alone changes. */
  source: 'api' | 'config';
  createdAt: number;
}

export interface NewDelivery {
  webhookId: string;
  identity: string;
  eventId: string;
  /** The event as JSON: exactly the body that is sent and signed. */
  body: string;
  createdAt: number;
}

export interface PendingDelivery extends NewDelivery {
  /** Position in the outbox: the order of delivery within a lane. */
  seq: number;
  /** Failed attempts so far. */
  attempts: number;
}

export interface FailedDelivery extends NewDelivery {
  id: number;
  attempts: number;
  lastError: string;
  failedAt: number;
}

/** Where one webhook is with the deliveries of one identity (querySignalSubscribers). */
export interface WebhookLaneProgress {
  webhookId: string;
  /** The newest reported time (µs) in the data_in events delivered; null before any. */
  deliveredUntil: number | null;
  /** When a data_in event was last delivered. */
  deliveredAt: number | null;
  /** Deliveries of the identity are waiting. */
  pending: boolean;
  /** The first of them has failed attempts already. */
  retrying: boolean;
  /** Deliveries of the identity in the failed list, and when the last one got there. */
  failed: number;
  failedAt: number | null;
}

export interface WebhookStore {
  /** Adds a webhook, or replaces the settings of one with the same id, keeping its deliveries. */
  put(webhook: WebhookRecord): Promise<void>;
  list(): Promise<WebhookRecord[]>;
  get(id: string): Promise<WebhookRecord | undefined>;
  /** Removes a webhook with its pending and failed deliveries; false when it does not exist. */
  remove(id: string): Promise<boolean>;
  counts(id: string): Promise<{ pending: number; failed: number }>;

  /**
   * Queues deliveries in one transaction, in the order given, each at the end of its lane.
   * Deliveries for webhooks that no longer exist are skipped; returns how many were queued.
   */
  enqueue(deliveries: NewDelivery[]): Promise<number>;
  /** The first delivery of each lane of the webhook that is due at `now`, lanes in `busy` aside. */
  due(webhookId: string, now: number, busy: string[], limit: number): Promise<PendingDelivery[]>;
  /** When the next lane of the webhook, lanes in `busy` aside, is due; undefined when none waits. */
  nextDue(webhookId: string, busy: string[]): Promise<number | undefined>;
  /** Removes a delivered delivery; the next of its lane is due at `now`. */
  delivered(delivery: PendingDelivery, now: number): Promise<void>;
  /** Records a failed attempt; the lane waits until `retryAt`. */
  postpone(delivery: PendingDelivery, attempts: number, lastError: string, retryAt: number): Promise<void>;
  /** Moves a delivery out of attempts to the failed list; the next of its lane is due at `now`. */
  fail(delivery: PendingDelivery, attempts: number, lastError: string, now: number): Promise<void>;

  /** Failed deliveries of a webhook with an id above `after`, oldest first. */
  listFailed(webhookId: string, after: number, limit: number): Promise<FailedDelivery[]>;
  /**
   * Queues failed deliveries again (one, or all when `id` is undefined) at the end of their lanes,
   * with their attempts reset; returns how many.
   */
  requeueFailed(webhookId: string, id: number | undefined, now: number): Promise<number>;
  /** Forgets failed deliveries (one, or all when `id` is undefined); returns how many. */
  discardFailed(webhookId: string, id: number | undefined): Promise<number>;

  /**
   * Every webhook's progress with the identity's deliveries. `delivered` records, with each data_in
   * event it removes, the newest reported time of its payload.
   */
  progress(identity: string): Promise<WebhookLaneProgress[]>;
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborted when the gateway stops or the webhook is removed. */
  signal: AbortSignal;
}

/** 2xx is success; anything else, or no answer in time, is a failed attempt. */
export type WebhookResult = { ok: true } | { ok: false; error: string };

export interface WebhookTransport {
  /** Never rejects: every failure is a result. */
  post(request: WebhookRequest): Promise<WebhookResult>;
}

/** What the management use cases tell the delivery machinery. */
export interface WebhookDeliveryControl {
  /** Webhooks were added, changed or removed. */
  reload(): Promise<void>;
  /** Deliveries of the webhook were queued outside the event flow (a retry of failed ones). */
  wake(webhookId: string): void;
}
