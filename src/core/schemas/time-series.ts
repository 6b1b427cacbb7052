import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AliasString, IdentityString, ResourceValue } from './common.js';

/** Signals are resource aliases or config_io channel ids: the alias rules apply to both. */
export const SignalString = Type.String({
  ...AliasString,
  description: 'A signal: a resource alias, or a channel id of the signal parser.',
});

const Seconds = (description: string) =>
  Type.Number({
    minimum: 1_000_000_000,
    maximum: 9_999_999_999,
    description: `${description} UNIX seconds; fraction digits give ms or µs, kept down to the precision of epoch.`,
  });

const Epoch = Type.Union([Type.Literal('s'), Type.Literal('ms'), Type.Literal('us')], {
  description: 'Precision of start_time/end_time and of the times answered. Default: us.',
});

const Bucket = Type.Union([Type.Literal('1m'), Type.Literal('5m'), Type.Literal('1h')], {
  description: 'Bucket length; buckets start at multiples of it (UTC). Default: 1h.',
});

export const AggregateField = Type.Union([
  Type.Literal('count'),
  Type.Literal('max'),
  Type.Literal('min'),
  Type.Literal('sum'),
]);
export type AggregateField = Static<typeof AggregateField>;

/** The parameters shared by the six queries. */
const window = {
  start_time: Type.Optional(Seconds('Start (data reported_time >= start_time). Default: end_time - 7 days.')),
  end_time: Type.Optional(Seconds('End (data reported_time < end_time). Default: now.')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
  page: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 999_999_999_999_999,
      default: 1,
      description: 'Page number: page n starts after (n - 1) * limit items.',
    }),
  ),
  epoch: Type.Optional(Epoch),
  group: Type.Optional(
    Type.Boolean({ description: 'Merge the items by signal id: one entry per identity and signal.' }),
  ),
};

const raw = {
  sort: Type.Optional(
    Type.Union([Type.Literal('report'), Type.Literal('server')], {
      description: 'Sort by reported (device) time or server time. Default: report.',
    }),
  ),
  order: Type.Optional(
    Type.Union([Type.Literal('desc'), Type.Literal('asc')], { description: 'Default: desc.' }),
  ),
};

const aggregate = {
  bucket: Type.Optional(Bucket),
  fields: Type.Optional(
    Type.Array(AggregateField, {
      minItems: 1,
      uniqueItems: true,
      description: 'Aggregates answered. Default: all four.',
    }),
  ),
};

const IdentitiesList = Type.String({
  minLength: 1,
  maxLength: 131_072,
  description: 'Identities separated by ","; without it, every identity with data of the resource.',
});

const SignalList = Type.Array(SignalString, {
  minItems: 1,
  maxItems: 1000,
  description: 'Signals; without it, every signal of the identity.',
});

const strict = { additionalProperties: false } as const;

export const QueryResourceParams = Type.Object(
  { resource: AliasString, identities: Type.Optional(IdentitiesList), ...window, ...raw },
  strict,
);
export const QuerySignalParams = Type.Object(
  { identity: IdentityString, signal: SignalString, ...window, ...raw },
  strict,
);
export const QuerySignalsParams = Type.Object(
  { identity: IdentityString, signals: Type.Optional(SignalList), ...window, ...raw },
  strict,
);
export const AggrQueryResourceParams = Type.Object(
  { resource: AliasString, identities: Type.Optional(IdentitiesList), ...window, ...aggregate },
  strict,
);
export const AggrQuerySignalParams = Type.Object(
  { identity: IdentityString, signal: SignalString, ...window, ...aggregate },
  strict,
);
export const AggrQuerySignalsParams = Type.Object(
  { identity: IdentityString, signals: Type.Optional(SignalList), ...window, ...aggregate },
  strict,
);
export type QueryResourceParams = Static<typeof QueryResourceParams>;
export type QuerySignalParams = Static<typeof QuerySignalParams>;
export type QuerySignalsParams = Static<typeof QuerySignalsParams>;
export type AggrQueryResourceParams = Static<typeof AggrQueryResourceParams>;
export type AggrQuerySignalParams = Static<typeof AggrQuerySignalParams>;
export type AggrQuerySignalsParams = Static<typeof AggrQuerySignalsParams>;

const Time = (description: string) =>
  Type.Integer({ description: `${description}, since the epoch in the unit of q.epoch.` });

/** The query as it ran: every default filled in, times in the unit of epoch. */
const Q = Type.Object({
  identities: Type.Array(Type.String()),
  resource: Type.Optional(Type.String()),
  signals: Type.Optional(Type.Array(Type.String())),
  start_time: Time('Start'),
  end_time: Time('End (exclusive)'),
  epoch: Type.String(),
  limit: Type.Integer(),
  page: Type.Integer(),
  group: Type.Boolean(),
  sort: Type.Optional(Type.String()),
  order: Type.Optional(Type.String()),
  bucket: Type.Optional(Type.String()),
  fields: Type.Optional(Type.Array(AggregateField)),
});

const sample = {
  reported_time: Time('Reported (device) time'),
  server_time: Time('Time the server stored it'),
  value: ResourceValue,
};
const Nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
const aggregates = {
  count: Type.Optional(Type.Integer({ description: 'Samples in the bucket.' })),
  max: Type.Optional(Nullable(Type.Number())),
  min: Type.Optional(Nullable(Type.Number())),
  sum: Type.Optional(
    Nullable(Type.Number({ description: 'Of numeric (and boolean, as 1/0) samples; null without any.' })),
  ),
};
const bucket = { time: Time('Start of the bucket'), ...aggregates };

/** The answer of a query, by the name its items give the series: `resource` or `signal`. */
function answer<K extends 'resource' | 'signal'>(key: K, item: Record<string, TSchema>) {
  const Item = Type.Object({ identity: Type.String(), [key]: Type.String(), ...item });
  const Group = Type.Object({
    id: Type.String({ description: '<identity>/<signal>' }),
    identity: Type.String(),
    [key]: Type.String(),
    values: Type.Array(Type.Object(item)),
  });
  return Type.Object({
    q: Q,
    data: Type.Array(Type.Union([Item, Group]), {
      description: 'Items, or with group one entry per identity and signal holding its items in order.',
    }),
  });
}

export const ResourceQueryResult = answer('resource', sample);
export const SignalQueryResult = answer('signal', sample);
export const ResourceAggregateResult = answer('resource', bucket);
export const SignalAggregateResult = answer('signal', bucket);

export const LatestSignalsSearchParams = Type.Object(
  {
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999_999_999, default: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, default: 100 })),
    reverse: Type.Optional(Type.Boolean({ description: 'Sort descending.' })),
    signals: Type.Optional(Type.Array(SignalString, { maxItems: 1000, description: 'Only these signals.' })),
    sort_key: Type.Optional(
      Type.Union([Type.Literal('identity'), Type.Literal('signal')], { default: 'identity' }),
    ),
    identities: Type.Optional(
      Type.Array(IdentityString, { maxItems: 1000, description: 'Only these identities.' }),
    ),
  },
  strict,
);
export type LatestSignalsSearchParams = Static<typeof LatestSignalsSearchParams>;

const Iso = (description: string) =>
  Nullable(
    Type.String({ description: `${description}: 2024-07-29T07:40:00.123456Z; null before any sample.` }),
  );

export const LatestSignal = Type.Object({
  identity: Type.String(),
  resource: Type.String({ description: 'The resource that carries it: its own name, or data_in.' }),
  signal_id: Type.String({ description: '<identity>/<signal>' }),
  signal_name: Type.String(),
  last_value: Nullable(Type.String({ description: 'The newest value by reported time, as text.' })),
  last_insert: Iso('When the server stored it'),
  last_update: Iso('Its reported time'),
});

export const LatestSignalsSearchResult = Type.Object({
  q: Type.Object({
    page: Type.Integer(),
    limit: Type.Integer(),
    reverse: Type.Boolean(),
    sort_key: Type.String(),
    signals: Type.Optional(Type.Array(Type.String())),
    identities: Type.Optional(Type.Array(Type.String())),
  }),
  data: Type.Array(LatestSignal),
  total: Type.Integer({ description: 'Signals matching the filters.' }),
});
export type LatestSignalsSearchResult = Static<typeof LatestSignalsSearchResult>;

export const PublishDataParams = Type.Object(
  {
    identity: IdentityString,
    payload: Type.Array(
      Type.Object(
        {
          timestamp: Type.Number({
            exclusiveMinimum: 0,
            description: 'Seconds, milliseconds or µs (CONTRACT §2); at most 1 day ahead, 10 years back.',
          }),
          values: Type.Record(Type.String(), Type.Unknown(), {
            description: 'Resource alias (or existing signal) -> value.',
          }),
        },
        strict,
      ),
      { maxItems: 10_000 },
    ),
  },
  strict,
);
export type PublishDataParams = Static<typeof PublishDataParams>;
