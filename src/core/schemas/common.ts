import { Type, type Static } from '@sinclair/typebox';

/**
 * Identities travel inside MQTT topics (`$provision/<identity>`, `$as/<identity>/<alias>`) and
 * comma-separated lists (`removeIdentities`), so topic separators, wildcards, commas and control
 * characters are refused whatever the identity format says.
 */
export const IdentityString = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[^/+#,\\u0000-\\u001f\\u007f]+$',
  description: 'The identifier of a device.',
});

/** Resource aliases follow the reference (`^[^.$]+$`) and, like identities, stay usable in topics. */
export const AliasString = Type.String({
  minLength: 1,
  maxLength: 128,
  // "__proto__" would become an object's prototype wherever aliases are keys.
  pattern: '^(?!__proto__$)[^.$/+#\\u0000-\\u001f\\u007f]+$',
  description: 'The name of a resource.',
});

export const ResourceValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
export type ResourceValue = Static<typeof ResourceValue>;

export const ErrorBody = Type.Object(
  {
    code: Type.Integer({ description: 'The HTTP status of the error.' }),
    message: Type.String({ description: 'What went wrong, naming the parameter when one is at fault.' }),
  },
  { $id: 'Error' },
);

export const TagName = Type.String({ minLength: 1, maxLength: 128, description: 'At most 128 bytes.' });
export const TagValue = Type.String({ maxLength: 4096, description: 'At most 4096 bytes.' });
export const Tag = Type.Object({ name: TagName, value: TagValue }, { additionalProperties: false });
export type Tag = Static<typeof Tag>;

export const StateEntry = Type.Object({
  set: Type.Optional(ResourceValue),
  reported: Type.Optional(ResourceValue),
  timestamp: Type.Number({ description: 'When the entry last changed, µs since the epoch.' }),
});
export type StateEntry = Static<typeof StateEntry>;

export const IdentityState = Type.Record(Type.String(), StateEntry);
export type IdentityState = Static<typeof IdentityState>;
