import type { SubscriberSession, SubscriberSource } from '../core/signal-subscribers.js';
import type { WebhookLaneProgress, WebhookStore } from '../core/webhook-ports.js';

function status(progress: WebhookLaneProgress | undefined): string {
  if (!progress) return 'ok';
  if (progress.failed > 0) return 'failed';
  if (progress.retrying) return 'retrying';
  return progress.pending ? 'pending' : 'ok';
}

const latest = (...times: (number | null | undefined)[]) => {
  const known = times.filter((t): t is number => typeof t === 'number');
  return known.length > 0 ? Math.max(...known) : null;
};

/**
 * Webhooks as signal consumers (`sync_to_cloud`): each webhook whose filters let the identity's
 * data_in events through consumes every signal of it. Its offset is the newest reported time in the
 * data_in events delivered to it for that identity; its status says whether deliveries wait, retry,
 * or gave up (kept in its failed list).
 */
export class WebhookSubscriberSource implements SubscriberSource {
  constructor(private readonly store: Pick<WebhookStore, 'list' | 'progress'>) {}

  async sessions(identity: string, signals: string[]): Promise<SubscriberSession[]> {
    const webhooks = (await this.store.list()).filter(
      (w) => (!w.types || w.types.includes('data_in')) && (!w.identities || w.identities.includes(identity)),
    );
    if (webhooks.length === 0) return [];
    const progress = new Map((await this.store.progress(identity)).map((p) => [p.webhookId, p]));
    return webhooks.flatMap((webhook) => {
      const p = progress.get(webhook.id);
      return signals.map((signal) => ({
        signal,
        sessionId: `webhook:${webhook.id}`,
        sessionType: 'sync_to_cloud' as const,
        subscriber: webhook.id,
        offset: p?.deliveredUntil ?? null,
        status: status(p),
        lastUpdate: latest(p?.deliveredAt, p?.failedAt),
      }));
    });
  }
}
