import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import { GatewayError, invalidParameter } from './errors.js';
import type { GatewayEvent } from './events.js';
import type {
  CreateWebhookParams,
  FailedDeliveryList,
  FailedDeliveryQuery,
  WebhookView,
} from './schemas/webhook.js';
import type { FailedDelivery, WebhookDeliveryControl, WebhookRecord, WebhookStore } from './webhook-ports.js';

/** The id of the webhook that FLEETGATE_WEBHOOK_URL configures. */
export const CONFIG_WEBHOOK_ID = 'config';

/** Why `text` cannot be a webhook URL, or undefined when it can. */
export function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  // They would be shown by every listing; the signature is what authenticates a delivery.
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  return undefined;
}

export interface WebhookServiceDeps {
  store: WebhookStore;
  control: WebhookDeliveryControl;
  clock: Clock;
  newId?: () => string;
}

/** The configured webhook as the settings give it: both or neither (the configuration checks). */
export interface ConfiguredWebhook {
  url: string;
  secret: string;
}

const notFound = (id: string) => new GatewayError('NOT_FOUND', `webhook "${id}" does not exist`);

/** Management of webhooks and of their failed deliveries. */
export class WebhookService {
  private readonly store: WebhookStore;
  private readonly control: WebhookDeliveryControl;
  private readonly clock: Clock;
  private readonly newId: () => string;

  constructor(deps: WebhookServiceDeps) {
    this.store = deps.store;
    this.control = deps.control;
    this.clock = deps.clock;
    this.newId = deps.newId ?? randomUUID;
  }

  async create(params: CreateWebhookParams): Promise<WebhookView> {
    const problem = webhookUrlProblem(params.url);
    if (problem) throw invalidParameter('url', problem);
    const record: WebhookRecord = {
      id: this.newId(),
      url: params.url,
      secret: params.secret,
      types: params.types ? [...new Set(params.types)] : null,
      identities: params.identities ? [...new Set(params.identities)] : null,
      source: 'api',
      createdAt: this.clock.nowMicros(),
    };
    await this.store.put(record);
    await this.control.reload();
    return this.view(record);
  }

  async list(): Promise<WebhookView[]> {
    return Promise.all((await this.store.list()).map((record) => this.view(record)));
  }

  async get(id: string): Promise<WebhookView> {
    return this.view(await this.find(id));
  }

  async remove(id: string): Promise<void> {
    const record = await this.find(id);
    if (record.source === 'config') {
      throw new GatewayError(
        'MANAGED_BY_CONFIG',
        `webhook "${id}" comes from FLEETGATE_WEBHOOK_URL (--webhook-url); unset it to remove the webhook`,
      );
    }
    if (!(await this.store.remove(id))) throw notFound(id);
    await this.control.reload();
  }

  async listFailed(id: string, query: FailedDeliveryQuery): Promise<FailedDeliveryList> {
    await this.find(id);
    const limit = query.limit ?? 100;
    const rows = await this.store.listFailed(id, query.after ?? 0, limit + 1);
    return { deliveries: rows.slice(0, limit).map(failedView), mayLoadMore: rows.length > limit };
  }

  /** Queues one failed delivery, or all of them, again; returns how many. */
  async retryFailed(id: string, delivery?: number): Promise<number> {
    await this.find(id);
    const count = await this.store.requeueFailed(id, delivery, this.clock.nowMicros());
    if (delivery !== undefined && count === 0) throw failedNotFound(id, delivery);
    if (count > 0) this.control.wake(id);
    return count;
  }

  /** Forgets one failed delivery, or all of them; returns how many. */
  async discardFailed(id: string, delivery?: number): Promise<number> {
    await this.find(id);
    const count = await this.store.discardFailed(id, delivery);
    if (delivery !== undefined && count === 0) throw failedNotFound(id, delivery);
    return count;
  }

  /**
   * Makes the stored configured webhook match the configuration: created or updated when it is
   * set, removed with its deliveries when it no longer is. Returns what a removal dropped.
   */
  async configure(
    configured: ConfiguredWebhook | undefined,
  ): Promise<{ removed?: { pending: number; failed: number } }> {
    const stored = await this.store.get(CONFIG_WEBHOOK_ID);
    let removed: { pending: number; failed: number } | undefined;
    if (configured) {
      await this.store.put({
        id: CONFIG_WEBHOOK_ID,
        url: configured.url,
        secret: configured.secret,
        types: null,
        identities: null,
        source: 'config',
        createdAt: stored?.createdAt ?? this.clock.nowMicros(),
      });
    } else if (stored?.source === 'config') {
      removed = await this.store.counts(CONFIG_WEBHOOK_ID);
      await this.store.remove(CONFIG_WEBHOOK_ID);
    }
    await this.control.reload();
    return removed ? { removed } : {};
  }

  private async find(id: string): Promise<WebhookRecord> {
    const record = await this.store.get(id);
    if (!record) throw notFound(id);
    return record;
  }

  private async view(record: WebhookRecord): Promise<WebhookView> {
    return {
      id: record.id,
      url: record.url,
      ...(record.types && { types: record.types }),
      ...(record.identities && { identities: record.identities }),
      source: record.source,
      created: record.createdAt,
      ...(await this.store.counts(record.id)),
    };
  }
}

function failedNotFound(id: string, delivery: number): GatewayError {
  return new GatewayError('NOT_FOUND', `webhook "${id}" has no failed delivery ${delivery}`);
}

function failedView(row: FailedDelivery) {
  return {
    id: row.id,
    eventId: row.eventId,
    event: JSON.parse(row.body) as GatewayEvent,
    attempts: row.attempts,
    lastError: row.lastError,
    created: row.createdAt,
    failedAt: row.failedAt,
  };
}
