import { Type, type Static } from '@sinclair/typebox';
import { IdentityState, IdentityString, Tag } from './common.js';

export const AuthType = Type.Union([
  Type.Literal('certificate'),
  Type.Literal('password'),
  Type.Literal('token'),
]);
export type AuthType = Static<typeof AuthType>;

export const IdentityStatus = Type.Union([
  Type.Literal('locked'),
  Type.Literal('reprovision'),
  Type.Literal('provisioned'),
  Type.Literal('whitelisted'),
  Type.Literal('expired'),
]);
export type IdentityStatus = Static<typeof IdentityStatus>;

export const AuthInput = Type.Object(
  {
    key: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 16384 }), Type.Null()], {
        description:
          'Token, password (at least 20 bytes) or PEM certificate; stored one-way hashed except certificates.',
      }),
    ),
    type: Type.Optional(AuthType),
    expire: Type.Optional(
      Type.Integer({
        minimum: 0,
        // Beyond this a timestamp no longer survives the round trip through a JSON number exactly.
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'End of the provisioning window or key validity, µs since the epoch.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AuthInput = Static<typeof AuthInput>;

export const AddIdentityParams = Type.Object(
  { identity: IdentityString, auth: Type.Optional(AuthInput), locked: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export const MakeIdentityParams = Type.Object(
  { auth: Type.Optional(AuthInput), locked: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export const UpdateIdentityParams = AddIdentityParams;
export const IdentityParams = Type.Object({ identity: IdentityString }, { additionalProperties: false });
export const RemoveIdentitiesParams = Type.Object(
  {
    identities: Type.String({
      minLength: 1,
      maxLength: 262144,
      description: 'Identities to delete, separated by ",".',
    }),
  },
  { additionalProperties: false },
);

export const IdentityView = Type.Object({
  identity: Type.String(),
  auth: Type.Object({
    key: Type.Union([Type.String(), Type.Null()], {
      description: 'Always null for tokens and passwords; the PEM certificate for certificate identities.',
    }),
    type: AuthType,
    expire: Type.Optional(Type.Integer()),
  }),
  status: IdentityStatus,
  locked: Type.Boolean(),
  online: Type.Boolean(),
  lastip: Type.Union([Type.String(), Type.Null()]),
  lastseen: Type.Union([Type.Number(), Type.Null()], {
    description: 'µs since the epoch, null if never seen.',
  }),
  tags: Type.Array(Tag),
  state: IdentityState,
});
export type IdentityView = Static<typeof IdentityView>;

const permissionOver = (description: string) =>
  Type.Object(
    {
      identities: Type.Array(IdentityString, {
        maxItems: 1000,
        description: 'Identities this permission covers; "*" covers every identity.',
      }),
    },
    { additionalProperties: false, description },
  );
export const IdentityPermission = Type.Object(
  {
    subscript: Type.Optional(
      permissionOver('Whose signals the device may subscribe to (s/<identity>/<signal>).'),
    ),
    publish_as: Type.Optional(
      permissionOver('Which identities the device may publish as ($as/<identity>/<alias>).'),
    ),
  },
  { additionalProperties: false },
);
export type IdentityPermission = Static<typeof IdentityPermission>;
export const UpdateIdentityPermissionParams = Type.Object(
  { identity: IdentityString, permission: IdentityPermission },
  { additionalProperties: false },
);
