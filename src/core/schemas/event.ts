import { Type, type Static } from '@sinclair/typebox';
import { ResourceValue } from './common.js';

/** The event types of the reference's event object, in its order. */
export const EVENT_TYPES = [
  'connect',
  'disconnect',
  'data_in',
  'content_in',
  'deleted',
  'provisioned',
  'expired',
] as const;

export const EventType = Type.Union(
  EVENT_TYPES.map((type) => Type.Literal(type)),
  { description: 'The event type.' },
);
export type EventType = Static<typeof EventType>;

export const isEventType = (value: string): value is EventType =>
  (EVENT_TYPES as readonly string[]).includes(value);

/**
 * The reference's event object, as webhooks, the event stream and the failed-delivery list show
 * it. Further fields are let through, so an event stored by a newer build is shown whole.
 */
export const EventObject = Type.Object(
  {
    type: EventType,
    identity: Type.String({ description: 'The identity the event is about.' }),
    ip: Type.Union([Type.String(), Type.Null()], { description: 'Address the device connected from.' }),
    protocol: Type.String({ description: 'The protocol the device connected with (or `api`).' }),
    timestamp: Type.Integer({ description: 'When the event was generated, µs since the epoch.' }),
    connection_id: Type.Union([Type.String(), Type.Null()], {
      description: 'Shared by every event of one network connection.',
    }),
    payload: Type.Optional(
      Type.Array(
        Type.Object({
          timestamp: Type.Number({ description: 'µs since the epoch.' }),
          values: Type.Record(Type.String(), ResourceValue),
        }),
        { description: 'The data published, for `data_in`.' },
      ),
    ),
    updated_resources: Type.Optional(
      Type.Array(Type.String(), { description: 'Aliases of the payload stored as identity state.' }),
    ),
  },
  { additionalProperties: true },
);
