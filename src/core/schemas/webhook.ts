import { Type, type Static } from '@sinclair/typebox';
import { IdentityString } from './common.js';
import { EventObject, EventType } from './event.js';

/** Deliveries are always signed, so a secret too short to resist guessing is refused. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

export const WebhookId = Type.String({ minLength: 1, maxLength: 64, description: 'The webhook id.' });

export const CreateWebhookParams = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'http:// or https:// URL that receives each event as a JSON POST.',
    }),
    secret: Type.String({
      minLength: MIN_WEBHOOK_SECRET_LENGTH,
      maxLength: 1024,
      description: `Key of the HMAC-SHA256 signature of every delivery (at least ${MIN_WEBHOOK_SECRET_LENGTH} characters); never returned.`,
    }),
    types: Type.Optional(
      Type.Array(EventType, {
        minItems: 1,
        maxItems: 7,
        description: 'Only events of these types (default: every type).',
      }),
    ),
    identities: Type.Optional(
      Type.Array(IdentityString, {
        minItems: 1,
        maxItems: 1000,
        description: 'Only events of these identities (default: every identity).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateWebhookParams = Static<typeof CreateWebhookParams>;

export const WebhookView = Type.Object({
  id: WebhookId,
  url: Type.String(),
  types: Type.Optional(Type.Array(EventType)),
  identities: Type.Optional(Type.Array(Type.String())),
  source: Type.Union([Type.Literal('api'), Type.Literal('config')], {
    description: '`config`: the webhook of FLEETGATE_WEBHOOK_URL, managed by the configuration.',
  }),
  created: Type.Integer({ description: 'µs since the epoch.' }),
  pending: Type.Integer({ description: 'Deliveries waiting or being retried.' }),
  failed: Type.Integer({ description: 'Deliveries that ran out of attempts, kept for retry or discard.' }),
});
export type WebhookView = Static<typeof WebhookView>;

export const WebhookList = Type.Object({ webhooks: Type.Array(WebhookView) });
export type WebhookList = Static<typeof WebhookList>;

export const WebhookParams = Type.Object({ id: WebhookId }, { additionalProperties: false });

export const FailedDeliveryParams = Type.Object(
  { id: WebhookId, delivery: Type.Integer({ minimum: 1, description: 'The failed delivery id.' }) },
  { additionalProperties: false },
);

export const FailedDeliveryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Only deliveries with a greater id (the last id of a page).' }),
    ),
  },
  { additionalProperties: false },
);
export type FailedDeliveryQuery = Static<typeof FailedDeliveryQuery>;

export const FailedDeliveryView = Type.Object({
  id: Type.Integer({ description: 'Names the delivery for retry or discard.' }),
  eventId: Type.String({ description: 'The X-Fleetgate-Event-Id header of every attempt.' }),
  event: EventObject,
  attempts: Type.Integer(),
  lastError: Type.String({ description: 'Why the last attempt failed.' }),
  created: Type.Integer({ description: 'When the event was queued, µs since the epoch.' }),
  failedAt: Type.Integer({ description: 'When the last attempt failed, µs since the epoch.' }),
});
export type FailedDeliveryView = Static<typeof FailedDeliveryView>;

export const FailedDeliveryList = Type.Object({
  deliveries: Type.Array(FailedDeliveryView),
  mayLoadMore: Type.Boolean(),
});
export type FailedDeliveryList = Static<typeof FailedDeliveryList>;

export const RetriedCount = Type.Object({ retried: Type.Integer() });
export const DiscardedCount = Type.Object({ discarded: Type.Integer() });
