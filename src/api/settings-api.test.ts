import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, startTestApi, TEST_CERTIFICATE, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.close();
});

const settings = () => api.ok('getGatewaySettings', {});
const update = (patch: Record<string, unknown>) => api.call('updateGatewaySettings', patch);

describe('getGatewaySettings', () => {
  it('starts with the defaults the reference documents', async () => {
    expect(await settings()).toEqual({
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
    });
  });
});

describe('updateGatewaySettings', () => {
  it('merges a partial update into the settings, object by object', async () => {
    const before = await settings();
    const reply = await update({ fqdn: 'devices.example.com', provisioning: { enabled: false } });
    expect(reply.status).toBe(204);
    expect(await settings()).toEqual({
      ...before,
      fqdn: 'devices.example.com',
      provisioning: { ...before.provisioning, enabled: false },
    });
  });

  it('merges nested objects and replaces arrays', async () => {
    await update({ identity_format: { type: 'base10' } });
    await update({ identity_format: { options: { length: 6 } } });
    expect((await settings()).identity_format).toEqual({
      type: 'base10',
      prefix: '',
      options: { casing: 'mixed', length: 6 },
    });
    await update({
      provisioning: { ip_whitelisting: { enabled: true, allowed: ['10.0.0.1', '10.1.0.0/16'] } },
    });
    await update({ provisioning: { ip_whitelisting: { allowed: ['192.0.2.1'] } } });
    expect((await settings()).provisioning.ip_whitelisting).toEqual({
      enabled: true,
      allowed: ['192.0.2.1'],
    });
    await update({ permission: { gateway: ['gw-1', 'gw_2', 'gw:3', 'gw.4'] } });
    expect((await settings()).permission.gateway).toEqual(['gw-1', 'gw_2', 'gw:3', 'gw.4']);
  });

  it('changes nothing for an empty patch', async () => {
    const before = await settings();
    expect((await api.call('updateGatewaySettings')).status).toBe(204);
    expect(await settings()).toEqual(before);
  });

  it('takes a PEM client CA and a null pki', async () => {
    await update({ pki: { enabled: true, client_ca: [TEST_CERTIFICATE], vendor: { name: 'DigiCert' } } });
    expect((await settings()).pki).toEqual({
      enabled: true,
      client_ca: [TEST_CERTIFICATE],
      vendor: { name: 'DigiCert' },
    });
    await update({ pki: null });
    expect((await settings()).pki).toBeNull();
  });

  it('applies each provisioning auth type to the identities added afterwards', async () => {
    for (const authType of ['certificate', 'password', 'token'] as const) {
      await update({ provisioning: { auth_type: authType } });
      expect((await settings()).provisioning.auth_type).toBe(authType);
      await api.ok('addIdentity', { identity: `by-${authType}` });
      expect((await api.ok('getIdentity', { identity: `by-${authType}` })).auth.type).toBe(authType);
    }
  });

  it.each([
    ['an unknown setting', { colour: 'red' }, 'colour'],
    ['an unknown nested setting', { provisioning: { colour: 'red' } }, 'provisioning.colour'],
    ['a non-boolean provisioning.enabled', { provisioning: { enabled: 'yes' } }, 'provisioning.enabled'],
    ['an unknown auth type', { provisioning: { auth_type: 'magic' } }, 'provisioning.auth_type'],
    ['an unknown identity format', { identity_format: { type: 'mac48' } }, 'identity_format.type'],
    [
      'an unknown casing',
      { identity_format: { options: { casing: 'title' } } },
      'identity_format.options.casing',
    ],
    ['a negative length', { identity_format: { options: { length: -1 } } }, 'identity_format.options.length'],
    ['a length over 64', { identity_format: { options: { length: 65 } } }, 'identity_format.options.length'],
    [
      'a fractional length',
      { identity_format: { options: { length: 2.5 } } },
      'identity_format.options.length',
    ],
    [
      'a malformed MAC base',
      { identity_format: { options: { mac_base: '00:1A' } } },
      'identity_format.options.mac_base',
    ],
    [
      'a non-hex MAC base',
      { identity_format: { options: { mac_base: 'GG:1A:2B' } } },
      'identity_format.options.mac_base',
    ],
    [
      'a prefix against the casing',
      { identity_format: { type: 'base16', prefix: 'ab', options: { casing: 'upper' } } },
      'identity_format.prefix',
    ],
    ['a null fqdn', { fqdn: null }, 'fqdn'],
    ['an fqdn over 253 characters', { fqdn: 'a'.repeat(254) }, 'fqdn'],
    ['a null provisioning', { provisioning: null }, 'provisioning'],
    [
      'an address that is not IPv4',
      { provisioning: { ip_whitelisting: { allowed: ['10.0.0.1', '999.0.0.1'] } } },
      'provisioning.ip_whitelisting.allowed[1]',
    ],
    [
      'a range over /32',
      { provisioning: { ip_whitelisting: { allowed: ['10.0.0.0/33'] } } },
      'provisioning.ip_whitelisting.allowed[0]',
    ],
    [
      'a whitelist that is not an array',
      { provisioning: { ip_whitelisting: { allowed: '10.0.0.1' } } },
      'provisioning.ip_whitelisting.allowed',
    ],
    ['a gateway identity with a space', { permission: { gateway: ['gw 1'] } }, 'permission.gateway[0]'],
    [
      'a client CA that is not a certificate',
      { pki: { client_ca: ['-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----'] } },
      'pki.client_ca[0]',
    ],
    ['a client CA without PEM armour', { pki: { client_ca: ['MIIB'] } }, 'pki.client_ca[0]'],
    ['a non-boolean signal parser switch', { enable_signal_parser: 1 }, 'enable_signal_parser'],
    ['a solution sync that is not an object', { solution_sync: { source: 'x' } }, 'solution_sync.source'],
  ])('refuses %s with 400 naming the parameter, changing nothing', async (_case, patch, parameter) => {
    const before = await settings();
    assertError(await update(patch), 400, parameter);
    expect(await settings()).toEqual(before);
  });

  it('keeps the whole update out when one part of it is invalid', async () => {
    const reply = await update({ fqdn: 'new.example.com', provisioning: { auth_type: 'magic' } });
    assertError(reply, 400, 'provisioning.auth_type');
    expect((await settings()).fqdn).toBe('');
  });

  it('refuses a body that is not a settings object with 400', async () => {
    assertError(await api.call('updateGatewaySettings', '[]'), 400, 'body');
  });
});

describe('getSolutionPairing', () => {
  it('answers null source and target until solution sync is configured', async () => {
    expect(await api.ok('getSolutionPairing', {})).toEqual({ source: null, target: null });
  });

  it('answers the configured solution sync links', async () => {
    await update({ solution_sync: { source: { solution_id: 'upstream', url: 'https://a.example' } } });
    expect(await api.ok('getSolutionPairing', {})).toEqual({
      source: { solution_id: 'upstream', url: 'https://a.example' },
      target: null,
    });
    await update({ solution_sync: { target: { solution_id: 'downstream' } } });
    expect(await api.ok('getSolutionPairing', {})).toEqual({
      source: { solution_id: 'upstream', url: 'https://a.example' },
      target: { solution_id: 'downstream' },
    });
  });

  it('refuses parameters, since it takes none', async () => {
    assertError(await api.call('getSolutionPairing', { solution: 'x' }), 400, 'solution');
    assertError(await api.call('getGatewaySettings', { fqdn: 'x' }), 400, 'fqdn');
  });
});

describe('identity_format.prefix', () => {
  it('refuses characters an identity may not hold, since generated identities start with it', async () => {
    assertError(
      await api.call('updateGatewaySettings', { identity_format: { type: 'base10', prefix: 'a/b,' } }),
      400,
      'identity_format.prefix',
    );
  });
});
