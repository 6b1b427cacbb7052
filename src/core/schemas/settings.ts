import { Type, type Static } from '@sinclair/typebox';

export const IdentityFormatType = Type.Union(
  (['mac:48', 'mac-48', 'mac.48', 'uuidv4', 'base10', 'base16', 'opaque'] as const).map((t) =>
    Type.Literal(t),
  ),
);
export type IdentityFormatType = Static<typeof IdentityFormatType>;

export const IdentityFormat = Type.Object(
  {
    type: IdentityFormatType,
    prefix: Type.Optional(
      Type.String({
        maxLength: 64,
        // Generated identities start with it, so it may hold only what an identity may.
        pattern: '^[^/+#,\\u0000-\\u001f\\u007f]*$',
        description: 'Only for base10 and base16.',
      }),
    ),
    options: Type.Optional(
      Type.Object(
        {
          casing: Type.Optional(
            Type.Union([Type.Literal('lower'), Type.Literal('upper'), Type.Literal('mixed')]),
          ),
          length: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 64, description: 'Digits for base10/base16; 0 = any.' }),
          ),
          mac_base: Type.Optional(
            Type.String({
              pattern: '^([0-9A-Fa-f]{2}([:.-]?[0-9A-Fa-f]{2}){2}|[0-9A-Fa-f]{3}\\.[0-9A-Fa-f]{3})$',
              description: 'First 3 octets of MAC identities, e.g. "00:1A:2B" or, for mac.48, "001.A2B".',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type IdentityFormat = Static<typeof IdentityFormat>;

const Pem = Type.String({ maxLength: 65536, pattern: '-----BEGIN CERTIFICATE-----' });

export const GatewaySettings = Type.Object(
  {
    fqdn: Type.String({ maxLength: 253 }),
    identity_format: IdentityFormat,
    provisioning: Type.Object(
      {
        enabled: Type.Boolean(),
        auth_type: Type.Union([Type.Literal('certificate'), Type.Literal('token'), Type.Literal('password')]),
        generate_identity: Type.Boolean(),
        presenter_identity: Type.Boolean(),
        ip_whitelisting: Type.Object(
          {
            enabled: Type.Boolean(),
            allowed: Type.Array(
              Type.String({ maxLength: 18, description: 'IPv4 address or a.b.c.d/n range.' }),
              {
                maxItems: 10000,
              },
            ),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    pki: Type.Union([
      Type.Object(
        {
          enabled: Type.Boolean(),
          client_ca: Type.Array(Pem, { maxItems: 100 }),
          vendor: Type.Optional(
            Type.Union([
              Type.Object(
                {
                  name: Type.String({ maxLength: 128 }),
                  options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
                },
                { additionalProperties: false },
              ),
              Type.Null(),
            ]),
          ),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    permission: Type.Object(
      {
        gateway: Type.Array(Type.String({ pattern: '^[\\w\\-:.]+$', maxLength: 128 }), {
          maxItems: 10000,
          description: 'Identities allowed to publish as other devices.',
        }),
      },
      { additionalProperties: false },
    ),
    enable_signal_parser: Type.Boolean(),
    partition_key_level: Type.String({ maxLength: 64 }),
    root_ca_fingerprint: Type.String({ maxLength: 256 }),
    solution_sync: Type.Object(
      {
        source: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        target: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type GatewaySettings = Static<typeof GatewaySettings>;

/** updateGatewaySettings takes any part of the settings; the merged whole is validated again. */
export const GatewaySettingsPatch = Type.Object(
  {
    fqdn: Type.Optional(Type.Unknown()),
    identity_format: Type.Optional(Type.Unknown()),
    provisioning: Type.Optional(Type.Unknown()),
    pki: Type.Optional(Type.Unknown()),
    permission: Type.Optional(Type.Unknown()),
    enable_signal_parser: Type.Optional(Type.Unknown()),
    partition_key_level: Type.Optional(Type.Unknown()),
    root_ca_fingerprint: Type.Optional(Type.Unknown()),
    solution_sync: Type.Optional(Type.Unknown()),
  },
  {
    additionalProperties: false,
    description: 'Any part of the gateway settings; nested objects are merged.',
  },
);

export const SolutionPairing = Type.Object({
  source: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  target: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export function defaultSettings(): GatewaySettings {
  return {
    fqdn: '',
    identity_format: { type: 'opaque', prefix: '', options: { casing: 'mixed', length: 0 } },
    provisioning: {
      enabled: true,
      auth_type: 'token',
      generate_identity: false,
      presenter_identity: true,
      ip_whitelisting: { enabled: false, allowed: [] },
    },
    pki: { enabled: false, client_ca: [] },
    permission: { gateway: [] },
    enable_signal_parser: false,
    partition_key_level: '',
    root_ca_fingerprint: '',
    solution_sync: {},
  };
}
