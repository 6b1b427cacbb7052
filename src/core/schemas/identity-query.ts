import { Type, type Static } from '@sinclair/typebox';
import { IdentityString, Tag, TagName, ResourceValue } from './common.js';
import { IdentityView } from './identity.js';

const filters = {
  before: Type.Optional(Type.Number({ description: 'Only identities whose lastseen (µs) is smaller.' })),
  after: Type.Optional(Type.Number({ description: 'Only identities whose lastseen (µs) is greater.' })),
  status: Type.Optional(
    Type.String({
      maxLength: 200,
      description:
        'Comma-separated statuses: locked, reprovision, expired, provisioned, whitelisted, online, offline. ' +
        'Lifecycle statuses are ORed, online/offline are ORed, and the two groups are ANDed.',
    }),
  ),
  identity: Type.Optional(
    Type.String({
      maxLength: 1024,
      description: 'Regular expression on the identity (RE2 syntax, linear time).',
    }),
  ),
  ipaddress: Type.Optional(Type.String({ maxLength: 64, description: 'Exact lastip.' })),
  version: Type.Optional(
    Type.String({ maxLength: 64, description: 'Accepted and ignored, as in the reference.' }),
  ),
  tag: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, description: 'Tag name the identity must carry.' }),
  ),
  'tag.name': Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Same as "tag".' })),
  'tag.value': Type.Optional(Type.String({ maxLength: 4096, description: 'Value the named tag must have.' })),
  tags: Type.Optional(
    Type.String({
      maxLength: 65536,
      description:
        'JSON array of {name, operator, value} with operator gt, gte, lt, lte, eq or ne, compared as strings; ANDed.',
    }),
  ),
};

const orderKey = Type.String({
  pattern: '^(identity|lastseen|lastip|state\\.[^.$]+)(\\.(desc|asc))?$',
  description: 'identity, lastseen, lastip or state.<resource>, with an optional .asc or .desc suffix.',
});

export const IdentityFilterParams = Type.Object(filters, { additionalProperties: false });

export const ListIdentitiesParams = Type.Object(
  {
    ...filters,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    order: Type.Optional(Type.Union([orderKey, Type.Array(orderKey, { minItems: 1, maxItems: 4 })])),
  },
  { additionalProperties: false },
);

export const ListIdentitiesResult = Type.Object({
  devices: Type.Array(IdentityView),
  mayLoadMore: Type.Boolean(),
});

export const CountIdentitiesResult = Type.Object({ count: Type.Integer() });

const TagToRemove = Type.Object(
  { name: TagName, value: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);

export const UpdateIdentitiesParams = Type.Object(
  {
    ...filters,
    add: Type.Optional(
      Type.Object(
        { tags: Type.Optional(Type.Array(Tag, { maxItems: 100 })) },
        { additionalProperties: false },
      ),
    ),
    remove: Type.Optional(
      Type.Object(
        { tags: Type.Optional(Type.Array(TagToRemove, { maxItems: 100 })) },
        { additionalProperties: false, description: 'A tag without value removes every value of that name.' },
      ),
    ),
    update: Type.Optional(
      Type.Object(
        {
          state: Type.Optional(
            Type.Record(Type.String(), ResourceValue, {
              description: 'Resource values to set, as in setIdentityState.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const AddIdentityTagParams = Type.Object(
  {
    identity: IdentityString,
    replace: Type.Optional(Type.Boolean()),
    tags: Type.Array(Tag, { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);
export const IdentityTagParams = Type.Object(
  { identity: IdentityString, name: TagName },
  { additionalProperties: false },
);
export const RemoveIdentityTagParams = Type.Object(
  {
    identity: IdentityString,
    name: TagName,
    value: Type.Optional(
      Type.String({ maxLength: 65536, description: 'Values to remove, separated by ",".' }),
    ),
  },
  { additionalProperties: false },
);
export const StringList = Type.Array(Type.String());

/**
 * Resource values sit beside `identity` and `simulate`, which TypeBox's static type cannot say of
 * an `additionalProperties` schema; the cast keeps the JSON schema and gives callers the real shape.
 */
export const SetIdentityStateParams = Type.Unsafe<
  { identity: string; simulate?: boolean } & { [alias: string]: Static<typeof ResourceValue> }
>(
  Type.Object(
    {
      identity: IdentityString,
      simulate: Type.Optional(
        Type.Boolean({ description: 'Raise the events a real device reporting would.' }),
      ),
    },
    { additionalProperties: ResourceValue },
  ),
);
