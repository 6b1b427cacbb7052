import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { WebhookService } from '../core/webhook-service.js';
import {
  CreateWebhookParams,
  DiscardedCount,
  FailedDeliveryList,
  FailedDeliveryParams,
  FailedDeliveryQuery,
  RetriedCount,
  WebhookList,
  WebhookParams,
  WebhookView,
} from '../core/schemas/webhook.js';

interface RouteInput {
  params: unknown;
  query: unknown;
  body: unknown;
}

/** A management route outside the operation catalogue, described once for Fastify and OpenAPI. */
export interface RestRouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** OpenAPI style: `{id}` for a path parameter. */
  path: string;
  operationId: string;
  summary: string;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  status: 200 | 201 | 204;
  result?: TSchema;
  /** Error statuses the route may answer besides 401. */
  errors: number[];
  call: (webhooks: WebhookService, input: RouteInput) => Promise<unknown>;
}

const webhookId = (input: RouteInput) => (input.params as { id: string }).id;
const failedDelivery = (input: RouteInput) => input.params as { id: string; delivery: number };

export const webhookRoutes: RestRouteSpec[] = [
  {
    method: 'POST',
    path: '/api/v1/webhooks',
    operationId: 'createWebhook',
    summary: 'Add a webhook: every event passing its filters is POSTed to its URL, signed.',
    body: CreateWebhookParams,
    status: 201,
    result: WebhookView,
    errors: [400],
    call: (webhooks, input) => webhooks.create(input.body as CreateWebhookParams),
  },
  {
    method: 'GET',
    path: '/api/v1/webhooks',
    operationId: 'listWebhooks',
    summary: 'Every webhook, with its pending and failed delivery counts.',
    status: 200,
    result: WebhookList,
    errors: [],
    call: async (webhooks) => ({ webhooks: await webhooks.list() }),
  },
  {
    method: 'GET',
    path: '/api/v1/webhooks/{id}',
    operationId: 'getWebhook',
    summary: 'One webhook.',
    params: WebhookParams,
    status: 200,
    result: WebhookView,
    errors: [404],
    call: (webhooks, input) => webhooks.get(webhookId(input)),
  },
  {
    method: 'DELETE',
    path: '/api/v1/webhooks/{id}',
    operationId: 'removeWebhook',
    summary: 'Remove a webhook with its pending and failed deliveries.',
    params: WebhookParams,
    status: 204,
    errors: [404, 409],
    call: (webhooks, input) => webhooks.remove(webhookId(input)),
  },
  {
    method: 'GET',
    path: '/api/v1/webhooks/{id}/failed',
    operationId: 'listFailedDeliveries',
    summary: 'Deliveries that ran out of attempts, oldest first, with the event and the last error.',
    params: WebhookParams,
    querystring: FailedDeliveryQuery,
    status: 200,
    result: FailedDeliveryList,
    errors: [400, 404],
    call: (webhooks, input) => webhooks.listFailed(webhookId(input), input.query as FailedDeliveryQuery),
  },
  {
    method: 'POST',
    path: '/api/v1/webhooks/{id}/failed/retry',
    operationId: 'retryFailedDeliveries',
    summary: 'Queue every failed delivery again, each behind the pending ones of its identity.',
    params: WebhookParams,
    status: 200,
    result: RetriedCount,
    errors: [404],
    call: async (webhooks, input) => ({ retried: await webhooks.retryFailed(webhookId(input)) }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/webhooks/{id}/failed',
    operationId: 'discardFailedDeliveries',
    summary: 'Forget every failed delivery.',
    params: WebhookParams,
    status: 200,
    result: DiscardedCount,
    errors: [404],
    call: async (webhooks, input) => ({
      discarded: await webhooks.discardFailed(webhookId(input)),
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/webhooks/{id}/failed/{delivery}/retry',
    operationId: 'retryFailedDelivery',
    summary: 'Queue one failed delivery again, behind the pending ones of its identity.',
    params: FailedDeliveryParams,
    status: 204,
    errors: [400, 404],
    call: async (webhooks, input) => {
      const { id, delivery } = failedDelivery(input);
      await webhooks.retryFailed(id, delivery);
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/webhooks/{id}/failed/{delivery}',
    operationId: 'discardFailedDelivery',
    summary: 'Forget one failed delivery.',
    params: FailedDeliveryParams,
    status: 204,
    errors: [400, 404],
    call: async (webhooks, input) => {
      const { id, delivery } = failedDelivery(input);
      await webhooks.discardFailed(id, delivery);
    },
  },
];

const integerKeys = (schema: TSchema | undefined): string[] =>
  Object.entries((schema?.properties ?? {}) as Record<string, TSchema>)
    .filter(([, property]) => property.type === 'integer')
    .map(([key]) => key);

/** Path and query values arrive as text: digits become numbers where the schema wants integers. */
function coerceIntegers(values: unknown, keys: string[]): void {
  if (typeof values !== 'object' || values === null) return;
  const record = values as Record<string, unknown>;
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'string' && /^\d{1,15}$/.test(value)) record[key] = Number(value);
  }
}

/** Registers the webhook routes in an (authenticated) scope of the API. */
export function registerWebhookRoutes(scope: FastifyInstance, webhooks: WebhookService): void {
  for (const spec of webhookRoutes) {
    const paramIntegers = integerKeys(spec.params);
    const queryIntegers = integerKeys(spec.querystring);
    scope.route({
      method: spec.method,
      url: spec.path.replace(/\{(\w+)\}/g, ':$1'),
      config: { operation: spec.operationId },
      schema: {
        ...(spec.params && { params: spec.params }),
        ...(spec.querystring && { querystring: spec.querystring }),
        ...(spec.body && { body: spec.body }),
        ...(spec.result && { response: { [spec.status]: spec.result } }),
      },
      preValidation: (request, _reply, done) => {
        coerceIntegers(request.params, paramIntegers);
        coerceIntegers(request.query, queryIntegers);
        done();
      },
      handler: async (request, reply) => {
        const result = await spec.call(webhooks, {
          params: request.params,
          query: request.query,
          body: request.body,
        });
        return reply.code(spec.status).send(spec.status === 204 ? undefined : result);
      },
    });
  }
}
