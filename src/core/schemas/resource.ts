import { Type, type Static, type TNull, type TOptional, type TSchema, type TUnion } from '@sinclair/typebox';
import { AliasString, ResourceValue } from './common.js';

export const ResourceFormat = Type.Union([
  Type.Literal('boolean'),
  Type.Literal('number'),
  Type.Literal('string'),
]);
export type ResourceFormat = Static<typeof ResourceFormat>;

export const Retention = Type.Union(
  (['0', '3', '6', '12', '36', '60', '120'] as const).map((months) => Type.Literal(months)),
  { description: 'Months of data kept; "0" keeps none.' },
);

/** The fields a definition may go without; updateResource removes one given null. */
const removableFields = {
  unit: Type.String({ maxLength: 64 }),
  script: Type.Object(
    {
      qos: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 })),
      enable: Type.Optional(Type.Boolean({ description: 'Deprecated, use "enabled".' })),
      enabled: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  allowed: Type.Array(ResourceValue, {
    maxItems: 1000,
    description: 'Allowed values; number resources also take "low-high" range strings such as "9-11".',
  }),
  initial: ResourceValue,
  timeout: Type.Integer({ minimum: 30, maximum: 86400 }),
  cloud_sync: Type.Object(
    { enable: Type.Optional(Type.Boolean()) },
    { additionalProperties: false, description: 'Deprecated.' },
  ),
  replication: Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
};
type RemovableFields = typeof removableFields;

function mapFields<R>(wrap: (schema: TSchema) => TSchema) {
  return Object.fromEntries(
    Object.entries(removableFields).map(([name, schema]) => [name, wrap(schema)]),
  ) as R;
}

const definitionFields = {
  sync: Type.Optional(
    Type.Boolean({ description: 'true: set values wait for the device to acknowledge them.' }),
  ),
  format: Type.Optional(ResourceFormat),
  settable: Type.Optional(Type.Boolean()),
  retention: Type.Optional(Retention),
  ...mapFields<{ [K in keyof RemovableFields]: TOptional<RemovableFields[K]> }>((schema) =>
    Type.Optional(schema),
  ),
};

export const ResourceDefinitionInput = Type.Object(definitionFields, { additionalProperties: false });
export type ResourceDefinitionInput = Static<typeof ResourceDefinitionInput>;

/** A stored definition: the input with `format`, `sync`, `settable` and `retention` always present. */
export const ResourceDefinition = Type.Object({
  ...definitionFields,
  format: ResourceFormat,
  sync: Type.Boolean(),
  settable: Type.Boolean(),
  retention: Retention,
});
export type ResourceDefinition = Static<typeof ResourceDefinition>;

export const ResourceParams = Type.Object(
  { alias: AliasString, ...definitionFields },
  { additionalProperties: false },
);
export type ResourceParams = Static<typeof ResourceParams>;

/**
 * updateResource merges its fields over the stored definition, so null is how a caller takes an
 * optional field away (an initial value, before the resource stops being settable).
 */
export const UpdateResourceParams = Type.Object(
  {
    alias: AliasString,
    ...definitionFields,
    ...mapFields<{ [K in keyof RemovableFields]: TOptional<TUnion<[RemovableFields[K], TNull]>> }>((schema) =>
      Type.Optional(Type.Union([schema, Type.Null()])),
    ),
  },
  { additionalProperties: false, description: 'Given fields replace the stored ones; null removes one.' },
);
export type UpdateResourceParams = Static<typeof UpdateResourceParams>;
export const AliasParams = Type.Object({ alias: AliasString }, { additionalProperties: false });
export const ResourceList = Type.Record(Type.String(), ResourceDefinition);
