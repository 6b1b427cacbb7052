import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationAliases, operations } from '../core/operations.js';
import { assertError, seedFleet, startTestApi, type TestApi } from './test-api.js';

/*
 * One gateway takes every bad call in turn; the last test checks that none of them changed the
 * stored data or the gateway's ability to answer.
 */

let api: TestApi;
let before: unknown;

beforeAll(async () => {
  api = await startTestApi();
  await seedFleet(api);
  await api.ok('addResource', { alias: 'mode', format: 'string', settable: true, allowed: ['eco', 'boost'] });
  await api.ok('addResource', { alias: 'uptime', format: 'number' });
  await api.ok('updateIdentityPermission', {
    identity: 'alpha',
    permission: { publish_as: { identities: ['bravo'] } },
  });
  await api.ok('updateGatewaySettings', {
    fqdn: 'gw.example.com',
    identity_format: { options: { casing: 'lower' } },
  });
  before = await api.dump();
});
afterAll(async () => {
  await api.close();
});

type Case = [operation: string, body: unknown, status: number, parameter: string | undefined];

const ID = { identity: 'newdev' };
const idCases = (operation: string, extra: Record<string, unknown> = {}): Case[] => [
  [operation, { ...extra }, 400, 'identity'],
  [operation, { ...extra, identity: 5 }, 400, 'identity'],
  [operation, { ...extra, identity: '' }, 400, 'identity'],
  [operation, { ...extra, identity: 'a/b' }, 400, 'identity'],
  [operation, { ...extra, identity: 'a+' }, 400, 'identity'],
  [operation, { ...extra, identity: 'a#' }, 400, 'identity'],
  [operation, { ...extra, identity: 'a\u0000b' }, 400, 'identity'],
  [operation, { ...extra, identity: 'x'.repeat(129) }, 400, 'identity'],
  [operation, { ...extra, identity: 'ghost' }, 404, 'ghost'],
  [operation, { ...extra, identity: 'alpha', unknown: 1 }, 400, 'unknown'],
];
const noParams = (operation: string): Case[] => [[operation, { x: 1 }, 400, 'x']];

const CASES: Case[] = [
  // identities
  ['addIdentity', {}, 400, 'identity'],
  ['addIdentity', { identity: ['a'] }, 400, 'identity'],
  ['addIdentity', { identity: 'a,b' }, 400, 'identity'],
  ['addIdentity', { identity: 'Upper' }, 400, 'identity'],
  ['addIdentity', { identity: 'alpha' }, 409, 'alpha'],
  ['addIdentity', { ...ID, locked: 'yes' }, 400, 'locked'],
  ['addIdentity', { ...ID, auth: 'token' }, 400, 'auth'],
  ['addIdentity', { ...ID, auth: { type: 'magic' } }, 400, 'auth.type'],
  ['addIdentity', { ...ID, auth: { expire: -1 } }, 400, 'auth.expire'],
  ['addIdentity', { ...ID, auth: { expire: 1.5 } }, 400, 'auth.expire'],
  ['addIdentity', { ...ID, auth: { expire: 2 ** 53 } }, 400, 'auth.expire'],
  ['addIdentity', { ...ID, auth: { expire: '2030-01-01' } }, 400, 'auth.expire'],
  ['addIdentity', { ...ID, auth: { key: '' } }, 400, 'auth.key'],
  ['addIdentity', { ...ID, auth: { key: 5 } }, 400, 'auth.key'],
  ['addIdentity', { ...ID, auth: { key: 'k'.repeat(16385) } }, 400, 'auth.key'],
  ['addIdentity', { ...ID, auth: { type: 'password', key: 'nineteen-bytes-long' } }, 400, 'auth.key'],
  ['addIdentity', { ...ID, auth: { type: 'certificate', key: 'junk' } }, 400, 'auth.key'],
  ['addIdentity', { ...ID, auth: { key: 'token-alpha' } }, 409, 'auth.key'],
  ['addIdentity', { ...ID, auth: { colour: 'red' } }, 400, 'auth.colour'],
  ['makeIdentity', { identity: 'x' }, 400, 'identity'],
  ['makeIdentity', { locked: 1 }, 400, 'locked'],
  ['makeIdentity', { auth: { type: 'certificate' } }, 400, 'auth.type'],
  ['makeIdentity', { auth: { type: 'password', key: 'short' } }, 400, 'auth.key'],
  ['makeIdentity', { auth: { key: 'token-alpha' } }, 409, 'auth.key'],
  ...idCases('getIdentity'),
  ...idCases('updateIdentity', { locked: true }),
  ['updateIdentity', { identity: 'alpha', locked: 'no' }, 400, 'locked'],
  ['updateIdentity', { identity: 'alpha', auth: { expire: -5 } }, 400, 'auth.expire'],
  ['updateIdentity', { identity: 'alpha', auth: { type: 'password', key: 'short' } }, 400, 'auth.key'],
  ['updateIdentity', { identity: 'bravo', auth: { key: 'token-alpha' } }, 409, 'auth.key'],
  ...idCases('removeIdentity'),
  ['removeIdentities', {}, 400, 'identities'],
  ['removeIdentities', { identities: '' }, 400, 'identities'],
  ['removeIdentities', { identities: ['alpha'] }, 400, 'identities'],
  ['removeIdentities', { identities: 'alpha,,bravo' }, 400, 'identities'],
  ['removeIdentities', { identities: 'x'.repeat(262145) }, 400, 'identities'],
  ['removeIdentities', { identities: 'alpha,ghost,bravo' }, 404, 'ghost'],
  // queries
  ['listIdentities', { limit: 2001 }, 400, 'limit'],
  ['listIdentities', { limit: -1 }, 400, 'limit'],
  ['listIdentities', { offset: 0.5 }, 400, 'offset'],
  ['listIdentities', { order: 'colour' }, 400, 'order'],
  ['listIdentities', { order: 5 }, 400, 'order'],
  ['listIdentities', { status: 'sleeping' }, 400, 'status'],
  ['listIdentities', { identity: '(' }, 400, 'identity'],
  ['listIdentities', { identity: 5 }, 400, 'identity'],
  ['listIdentities', { tags: '{' }, 400, 'tags'],
  ['listIdentities', { tags: '[{"name":"a","operator":"like","value":"b"}]' }, 400, 'tags[0].operator'],
  ['listIdentities', { 'tag.value': 'north' }, 400, 'tag.value'],
  ['listIdentities', { before: 'yesterday' }, 400, 'before'],
  ['listIdentities', { ipaddress: 'x'.repeat(65) }, 400, 'ipaddress'],
  ['countIdentities', { status: 'online,sleeping' }, 400, 'status'],
  ['countIdentities', { after: {} }, 400, 'after'],
  ['countIdentities', { offset: 1 }, 400, 'offset'],
  ['updateIdentities', { status: 'online' }, 400, 'update'],
  ['updateIdentities', { status: 'nope', add: { tags: [{ name: 'a', value: 'b' }] } }, 400, 'status'],
  ['updateIdentities', { add: { tags: [{ name: 'a', value: 'é'.repeat(2049) }] } }, 400, 'add.tags[0].value'],
  ['updateIdentities', { update: { state: { temp: 'hot' } } }, 400, 'update.state.temp'],
  ['updateIdentities', { update: { state: { uptime: 1 } } }, 409, 'uptime'],
  ['updateIdentities', { remove: { tags: [{ value: 'x' }] } }, 400, 'remove.tags[0].name'],
  // state
  ...idCases('getIdentityState'),
  ...idCases('setIdentityState', { temp: 1 }),
  ['setIdentityState', { identity: 'alpha', temp: 'hot' }, 400, 'temp'],
  ['setIdentityState', { identity: 'alpha', temp: [1] }, 400, 'temp'],
  ['setIdentityState', { identity: 'alpha', mode: 'turbo' }, 400, 'mode'],
  ['setIdentityState', { identity: 'alpha', mode: 'x'.repeat(65537) }, 400, 'mode'],
  ['setIdentityState', { identity: 'alpha', humidity: 1 }, 400, 'humidity'],
  ['setIdentityState', { identity: 'alpha', uptime: 1 }, 409, 'uptime'],
  ['setIdentityState', { identity: 'alpha', temp: 1, simulate: 'yes' }, 400, 'simulate'],
  // tags and permissions
  ...idCases('addIdentityTag', { tags: [{ name: 'a', value: 'b' }] }),
  ['addIdentityTag', { identity: 'alpha', tags: [] }, 400, 'tags'],
  ['addIdentityTag', { identity: 'alpha', tags: [{ name: 'a', value: 1 }] }, 400, 'tags[0].value'],
  [
    'addIdentityTag',
    { identity: 'alpha', tags: [{ name: 'é'.repeat(65), value: 'v' }] },
    400,
    'tags[0].name',
  ],
  ['addIdentityTag', { identity: 'alpha', tags: Array(101).fill({ name: 'a', value: 'b' }) }, 400, 'tags'],
  ...idCases('getIdentityTag', { name: 'site' }),
  ['getIdentityTag', { identity: 'alpha' }, 400, 'name'],
  ['getIdentityTag', { identity: 'alpha', name: 'n'.repeat(129) }, 400, 'name'],
  ...noParams('listTagNames'),
  ...idCases('removeIdentityTag', { name: 'site' }),
  ['removeIdentityTag', { identity: 'alpha', name: 'site', value: 5 }, 400, 'value'],
  ...idCases('getIdentityPermission'),
  ...idCases('updateIdentityPermission', { permission: {} }),
  ['updateIdentityPermission', { identity: 'alpha' }, 400, 'permission'],
  [
    'updateIdentityPermission',
    { identity: 'alpha', permission: { publish_as: { identities: ['a/b'] } } },
    400,
    'permission.publish_as.identities[0]',
  ],
  // resources
  ['addResource', { alias: 'temp' }, 409, 'temp'],
  ['addGatewayResource', { alias: 'temp' }, 409, 'temp'],
  ['addResource', { alias: 'a.b' }, 400, 'alias'],
  ['addResource', { alias: 5 }, 400, 'alias'],
  ['addResource', { alias: 'x', format: 'json' }, 400, 'format'],
  ['addResource', { alias: 'x', timeout: 10 }, 400, 'timeout'],
  ['addResource', { alias: 'x', retention: '5' }, 400, 'retention'],
  ['addResource', { alias: 'x', format: 'number', allowed: ['lots'] }, 400, 'allowed[0]'],
  ['addResource', { alias: 'x', initial: 'a' }, 400, 'initial'],
  ['getGatewayResource', { alias: 'ghost' }, 404, 'ghost'],
  ['getGatewayResource', { alias: '$x' }, 400, 'alias'],
  ['getGatewayResource', {}, 400, 'alias'],
  ...noParams('getGatewayResourceList'),
  ['updateResource', { alias: 'ghost', unit: 'x' }, 404, 'ghost'],
  ['updateGatewayResource', { alias: 'ghost' }, 404, 'ghost'],
  ['updateResource', { alias: 'temp', timeout: 86401 }, 400, 'timeout'],
  ['updateResource', { alias: 'mode', format: 'number' }, 400, 'allowed[0]'],
  ['updateResource', { alias: 'uptime', initial: 3 }, 400, 'initial'],
  ['removeResource', { alias: 'ghost' }, 404, 'ghost'],
  ['removeGatewayResource', { alias: 'ghost' }, 404, 'ghost'],
  ['removeResource', { alias: ['temp'] }, 400, 'alias'],
  // settings
  ...noParams('getGatewaySettings'),
  ...noParams('getSolutionPairing'),
  ['updateGatewaySettings', { provisioning: { auth_type: 'magic' } }, 400, 'provisioning.auth_type'],
  ['updateGatewaySettings', { identity_format: { type: 'base36' } }, 400, 'identity_format.type'],
  ['updateGatewaySettings', { identity_format: { prefix: 'UP' } }, 400, 'identity_format.prefix'],
  ['updateGatewaySettings', { fqdn: 5 }, 400, 'fqdn'],
  ['updateGatewaySettings', { pki: { client_ca: ['nope'] } }, 400, 'pki.client_ca[0]'],
  [
    'updateGatewaySettings',
    { provisioning: { ip_whitelisting: { allowed: ['::1'] } } },
    400,
    'provisioning.ip_whitelisting.allowed[0]',
  ],
  // the edge
  ['addIdentity', '{"identity":', 400, 'body'],
  ['addIdentity', '["alpha"]', 400, 'body'],
  ['addIdentity', '{"identity":"proto","__proto__":{"locked":true}}', 400, '__proto__'],
  [
    'updateGatewaySettings',
    '{"identity_format":{"options":{"__proto__":{"mac_base":"00:11:22"}}}}',
    400,
    '__proto__',
  ],
  ['setIdentityState', '{"identity":"alpha","__proto__":1}', 400, '__proto__'],
  ['setIdentityState', { identity: 'alpha', constructor: 1 }, 400, 'constructor'],
  ['updateIdentities', { update: { state: { toString: 1 } } }, 400, 'update.state.toString'],
  [
    'updateGatewaySettings',
    { provisioning: { constructor: { prototype: {} } } },
    400,
    'provisioning.constructor',
  ],
  ['noSuchOperation', {}, 404, 'noSuchOperation'],
];

describe('bad input', () => {
  /** Long bodies shortened, so that test titles stay readable. */
  const titled = CASES.map(([operation, body, status, parameter]) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const shown = text.length > 100 ? `${text.slice(0, 100)}… (${text.length} chars)` : text;
    return [operation, shown, status, parameter, body] as const;
  });

  it.each(titled)('%s %s answers %i naming %s', async (operation, _shown, status, parameter, body) => {
    assertError(await api.call(operation, body), status, parameter);
  });

  it.each([...Object.keys(operations), ...Object.keys(operationAliases)])(
    '%s refuses a body over 1 MiB with 413',
    async (operation) => {
      const body = JSON.stringify({ identity: 'alpha', alias: 'temp', padding: 'x'.repeat(1024 * 1024) });
      assertError(await api.call(operation, body), 413);
    },
  );

  it('left the stored data unchanged, and the gateway still answers', async () => {
    expect(await api.dump()).toEqual(before);
    expect((await api.app.inject({ method: 'GET', url: '/health' })).body).toBe('OK');
    await api.ok('addIdentity', { identity: 'after-the-storm' });
    expect((await api.ok('countIdentities', {})).count).toBe(6);
  });
});
