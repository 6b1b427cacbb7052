import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { invalidParameter } from '../core/errors.js';
import { EVENT_TYPES, isEventType } from '../core/schemas/event.js';
import type { EventStreamHub } from './event-stream.js';

export const EVENT_STREAM_PATH = '/api/v1/events';

export const EventStreamQuery = Type.Object(
  {
    type: Type.Optional(
      Type.String({
        maxLength: 256,
        description: `Comma-separated event types to receive (default: every type): ${EVENT_TYPES.join(', ')}.`,
      }),
    ),
    identity: Type.Optional(
      Type.String({
        maxLength: 65_536,
        description: 'Comma-separated identities whose events to receive (default: every identity).',
      }),
    ),
  },
  { additionalProperties: false },
);
type EventStreamQuery = Static<typeof EventStreamQuery>;

export const EventStreamHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      maxLength: 128,
      description:
        'The id of the last event received (EventSource sends it when it reconnects): the stream starts with ' +
        'the events after it that are still kept, or with a `missed` event when it is no longer kept.',
    }),
  ),
});

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length > 0 ? items : undefined;
}

function filters(query: EventStreamQuery) {
  const types = list(query.type);
  for (const type of types ?? []) {
    if (!isEventType(type))
      throw invalidParameter('type', `unknown event type "${type}" (one of ${EVENT_TYPES.join(', ')})`);
  }
  const identities = list(query.identity);
  for (const identity of identities ?? []) {
    if (identity.length > 128) throw invalidParameter('identity', 'an identity has at most 128 characters');
  }
  return { types: types ? new Set(types) : null, identities: identities ? new Set(identities) : null };
}

/**
 * `GET /api/v1/events`: the live stream of events as Server-Sent Events, in an (authenticated)
 * scope of the API. Filters are checked before the stream starts, so a bad one is a plain 400.
 */
export function registerEventStreamRoute(scope: FastifyInstance, hub: EventStreamHub): void {
  scope.get(EVENT_STREAM_PATH, {
    config: { operation: 'events' },
    schema: { querystring: EventStreamQuery, headers: EventStreamHeaders },
    handler: (request, reply) => {
      const { types, identities } = filters(request.query as EventStreamQuery);
      const lastEventId =
        (request.headers as Static<typeof EventStreamHeaders>)['last-event-id'] || undefined;
      // From here on the response is ours: Fastify neither serialises nor ends it.
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        // Proxies such as nginx would otherwise hold events back to fill their buffers.
        'x-accel-buffering': 'no',
        // The stream is the connection's last response: once it ends, so does the connection,
        // which lets the gateway stop without waiting for idle sockets.
        connection: 'close',
      });
      res.write(': connected\n\n');
      const remove = hub.add(
        {
          types,
          identities,
          backlog: () => res.writableLength,
          write: (chunk) => void res.write(chunk),
          end: () => res.end(),
          destroy: () => res.destroy(),
        },
        lastEventId,
      );
      res.on('close', remove);
    },
  });
}
