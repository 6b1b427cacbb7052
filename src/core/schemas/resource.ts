import { Type, type Static } from '@sinclair/typebox';
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

const definitionFields = {
  sync: Type.Optional(
    Type.Boolean({ description: 'true: set values wait for the device to acknowledge them.' }),
  ),
  unit: Type.Optional(Type.String({ maxLength: 64 })),
  format: Type.Optional(ResourceFormat),
  script: Type.Optional(
    Type.Object(
      {
        qos: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 })),
        enable: Type.Optional(Type.Boolean({ description: 'Deprecated, use "enabled".' })),
        enabled: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  ),
  allowed: Type.Optional(
    Type.Array(ResourceValue, {
      maxItems: 1000,
      description: 'Allowed values; number resources also take "low-high" range strings such as "9-11".',
    }),
  ),
  initial: Type.Optional(ResourceValue),
  timeout: Type.Optional(Type.Integer({ minimum: 30, maximum: 86400 })),
  settable: Type.Optional(Type.Boolean()),
  retention: Type.Optional(Retention),
  cloud_sync: Type.Optional(
    Type.Object(
      { enable: Type.Optional(Type.Boolean()) },
      { additionalProperties: false, description: 'Deprecated.' },
    ),
  ),
  replication: Type.Optional(
    Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
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
export const AliasParams = Type.Object({ alias: AliasString }, { additionalProperties: false });
export const ResourceList = Type.Record(Type.String(), ResourceDefinition);
