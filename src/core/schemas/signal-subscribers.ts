import { Type, type Static } from '@sinclair/typebox';
import { IdentityString } from './common.js';
import { SignalString } from './time-series.js';

const strict = { additionalProperties: false } as const;

export const QuerySignalSubscribersParams = Type.Object(
  { identity: IdentityString, signal: SignalString },
  strict,
);
export type QuerySignalSubscribersParams = Static<typeof QuerySignalSubscribersParams>;

export const QuerySignalsSubscribersParams = Type.Object(
  {
    identity: IdentityString,
    signals: Type.Optional(
      Type.Array(SignalString, {
        minItems: 1,
        maxItems: 1000,
        description: 'Signal or resource names; without it, every signal of the identity.',
      }),
    ),
  },
  strict,
);
export type QuerySignalsSubscribersParams = Static<typeof QuerySignalsSubscribersParams>;

const Iso = (description: string) =>
  Type.Union([Type.String({ description: `${description}: 2024-07-29T07:40:00.123456Z.` }), Type.Null()]);

export const SignalSubscriber = Type.Object({
  identity: Type.String({ description: 'The device whose signal it is.' }),
  signal_name: Type.String(),
  session_id: Type.String({
    description:
      'mqtt_qos1: the connection_id of the subscribing connection (as in its connect event); ' +
      'sync_to_cloud: webhook:<webhook id>; script_async: event-handler.',
  }),
  session_type: Type.Union([
    Type.Literal('sync_to_cloud'),
    Type.Literal('script_async'),
    Type.Literal('mqtt_qos1'),
  ]),
  subscriber: Type.String({
    description: 'Who consumes: the subscribing identity, the webhook id, or "event-handler".',
  }),
  offset: Iso('Reported time of the newest data delivered to the session (null: none yet, or not known)'),
  status: Type.String({
    description:
      'mqtt_qos1: ok, sending (awaiting PUBACK), overloaded (samples dropped), failed; ' +
      'sync_to_cloud: ok, pending, retrying, failed; script_async: ok, pending, failed.',
  }),
  last_update: Iso('When the session last delivered, was acknowledged, failed or subscribed'),
});

export const SignalSubscribersResult = Type.Object({
  q: Type.Object({
    identity: Type.String(),
    signals: Type.Array(Type.String(), { description: 'The signals asked about (or every one).' }),
  }),
  data: Type.Array(SignalSubscriber),
});
export type SignalSubscribersResult = Static<typeof SignalSubscribersResult>;
