import type { TSchema } from '@sinclair/typebox';
import { operationAliases, operations } from '../core/operations.js';
import { ErrorBody } from '../core/schemas/common.js';
import { EventObject } from '../core/schemas/event.js';
import { EVENT_STREAM_PATH, EventStreamQuery } from './event-stream-route.js';
import { webhookRoutes } from './webhook-routes.js';

const DESCRIPTIONS: Record<number, string> = {
  200: 'Success.',
  201: 'Created.',
  204: 'Done; no body.',
  205: 'Deleted; no body.',
  400: 'A parameter is invalid; the message names it.',
  401: 'Missing or wrong admin token.',
  404: 'Unknown identity, resource or operation.',
  409: 'Conflict with stored data.',
  413: 'The body is too large.',
};

const errorResponse = (status: number, description = DESCRIPTIONS[status]) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** JSON round trip drops TypeBox's symbol keys, leaving plain JSON Schema (valid in OpenAPI 3.1). */
const plain = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema));

const WEBHOOK_ERRORS: Record<number, string> = {
  400: 'A parameter is invalid; the message names it.',
  404: 'Unknown webhook or failed delivery.',
  409: 'The webhook comes from the configuration.',
};

/** Path or query parameters of an object schema, as OpenAPI lists them. */
function parameters(schema: TSchema | undefined, where: 'path' | 'query') {
  const properties = (schema?.properties ?? {}) as Record<string, TSchema>;
  const required = new Set((schema?.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: plain(property),
  }));
}
const queryParameters = (schema: TSchema) => parameters(schema, 'query');

/** The webhook routes, from the same table that registers them. */
function restPaths(): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of webhookRoutes) {
    const success = spec.result
      ? {
          description: DESCRIPTIONS[spec.status],
          content: { 'application/json': { schema: plain(spec.result) } },
        }
      : { description: DESCRIPTIONS[spec.status] };
    paths[spec.path] ??= {};
    paths[spec.path]![spec.method.toLowerCase()] = {
      operationId: spec.operationId,
      summary: spec.summary,
      tags: ['webhooks'],
      parameters: [...parameters(spec.params, 'path'), ...parameters(spec.querystring, 'query')],
      ...(spec.body && {
        requestBody: { required: true, content: { 'application/json': { schema: plain(spec.body) } } },
      }),
      responses: {
        [spec.status]: success,
        401: errorResponse(401),
        ...Object.fromEntries(
          spec.errors.map((status) => [status, errorResponse(status, WEBHOOK_ERRORS[status])]),
        ),
      },
    };
  }
  return paths;
}

/** The OpenAPI document of the management API, generated from the schemas that validate it. */
export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const aliasesOf = (name: string) =>
    Object.entries(operationAliases)
      .filter(([, target]) => target === name)
      .map(([alias]) => alias);
  const paths: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(operations)) {
    const aliases = aliasesOf(name);
    const success =
      'result' in spec
        ? { description: DESCRIPTIONS[200], content: { 'application/json': { schema: plain(spec.result) } } }
        : { description: DESCRIPTIONS[spec.status] };
    paths[`/api/v1/device2/${name}`] = {
      post: {
        operationId: name,
        summary: spec.summary,
        ...(aliases.length > 0 && {
          description: `Also served as ${aliases.map((a) => `/api/v1/device2/${a}`).join(', ')}.`,
        }),
        tags: ['device2'],
        requestBody: { required: false, content: { 'application/json': { schema: plain(spec.params) } } },
        responses: {
          [spec.status]: success,
          400: errorResponse(400),
          401: errorResponse(401),
          404: errorResponse(404),
          409: errorResponse(409),
          413: errorResponse(413),
        },
      },
    };
  }
  Object.assign(paths, restPaths());
  paths[EVENT_STREAM_PATH] = {
    get: {
      operationId: 'streamEvents',
      summary: 'The live stream of events (Server-Sent Events).',
      description:
        'Each event is sent as `id: <event id>`, `event: <type>` and `data: <the event object as JSON>`; ' +
        'a comment line every 15 s keeps the connection open. A client that falls more than 4 MiB ' +
        'behind is disconnected. Events are not replayed on reconnection.',
      tags: ['events'],
      parameters: queryParameters(EventStreamQuery),
      responses: {
        200: {
          description: 'The stream; the data of each message is an event object.',
          content: {
            'text/event-stream': { schema: { type: 'string' }, 'x-event-data': plain(EventObject) },
          },
        },
        400: errorResponse(400, 'A filter names an unknown event type.'),
        401: errorResponse(401),
      },
    },
  };
  paths['/health'] = {
    get: {
      operationId: 'health',
      security: [],
      responses: { 200: { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  };
  paths['/metrics'] = {
    get: {
      operationId: 'metrics',
      security: [],
      responses: {
        200: {
          description: 'Prometheus text format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'fleetgate management API',
      version,
      description:
        'The Device2 operations (every call is POST with the parameters object as JSON body), ' +
        'webhooks and the live event stream.',
    },
    security: [{ adminToken: [] }],
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: plain(ErrorBody) },
    },
    paths,
  };
}
