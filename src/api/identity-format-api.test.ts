import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, startTestApi, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.close();
});

type Format = {
  type: string;
  prefix?: string;
  options?: { casing?: string; length?: number; mac_base?: string };
};

async function useFormat(format: Format): Promise<void> {
  const reply = await api.call('updateGatewaySettings', { identity_format: format });
  expect(reply.status, reply.text).toBe(204);
}

async function expectAccepted(identity: string): Promise<void> {
  const reply = await api.call('addIdentity', { identity });
  expect(reply.status, `${identity}: ${reply.text}`).toBe(204);
}

async function expectRefused(identity: string): Promise<void> {
  assertError(await api.call('addIdentity', { identity }), 400, 'identity');
  assertError(await api.call('getIdentity', { identity }), 404);
}

/** Each format with identities it must accept and refuse. */
const CASES: [string, Format, string[], string[]][] = [
  [
    'mac:48',
    { type: 'mac:48' },
    ['00:1a:2B:3c:4D:5e'],
    ['00-1a-2b-3c-4d-5e', '00:1a:2b:3c:4d', '00:1a:2b:3c:4d:5g'],
  ],
  ['mac-48', { type: 'mac-48' }, ['00-1A-2B-3C-4D-5E'], ['00:1a:2b:3c:4d:5e', '001A2B3C4D5E']],
  ['mac.48', { type: 'mac.48' }, ['001.a2b.3c4.d5e'], ['00.1a.2b.3c.4d.5e', '001a.2b3c.4d5e']],
  [
    'uuidv4',
    { type: 'uuidv4' },
    ['e5fa76f8-1220-45c9-b972-3e2345851677', 'E5FA76F8-1220-45C9-B972-3E2345851677'],
    [
      'e5fa76f8-1220-15c9-b972-3e2345851677',
      'e5fa76f8-1220-45c9-c972-3e2345851677',
      'e5fa76f8122045c9b9723e2345851677',
    ],
  ],
  ['base10', { type: 'base10' }, ['0123456789', '7'], ['12a', '-1', '1.5', ' 12']],
  ['base10 of length 6', { type: 'base10', options: { length: 6 } }, ['000001'], ['00001', '0000001']],
  ['base16', { type: 'base16' }, ['deadBEEF09'], ['0x1f', 'beefg']],
  ['base16 of length 4', { type: 'base16', options: { length: 4 } }, ['beef', 'BEEF'], ['bee', 'beef0']],
  [
    'base10 with a prefix',
    { type: 'base10', prefix: 'sn-', options: { length: 3 } },
    ['sn-001'],
    ['001', 'sn001', 'sn-01', 'SN-001', 'xsn-001'],
  ],
  [
    'base16 with an upper-case prefix and casing',
    { type: 'base16', prefix: 'AB', options: { casing: 'upper' } },
    ['ABFF00'],
    ['abff00', 'ABff00', 'FF00'],
  ],
  ['lower casing', { type: 'opaque', options: { casing: 'lower' } }, ['device-1'], ['Device-1']],
  [
    'upper casing',
    { type: 'mac:48', options: { casing: 'upper' } },
    ['00:1A:2B:3C:4D:5E'],
    ['00:1a:2b:3c:4d:5e'],
  ],
  [
    'a MAC base',
    { type: 'mac:48', options: { mac_base: '00:1A:2B' } },
    ['00:1a:2b:00:00:01', '00:1A:2B:FF:FF:FF'],
    ['00:1a:2c:00:00:01', '01:1a:2b:00:00:01'],
  ],
  [
    'a MAC base on mac.48',
    { type: 'mac.48', options: { mac_base: '001a2b' } },
    ['001.a2b.000.001'],
    ['001.a2c.000.001'],
  ],
  [
    'a MAC base written the mac.48 way',
    { type: 'mac.48', options: { mac_base: '001.A2B' } },
    ['001.a2b.000.001'],
    ['001.a2c.000.001'],
  ],
  ['opaque', { type: 'opaque' }, ['any thing: ünïcode ✓'], []],
];

describe('identity_format on addIdentity', () => {
  it.each(CASES)('enforces %s', async (_name, format, accepted, refused) => {
    await useFormat(format);
    for (const identity of accepted) await expectAccepted(identity);
    for (const identity of refused) await expectRefused(identity);
    expect((await api.ok('countIdentities', {})).count).toBe(accepted.length);
  });

  it('says which rule an identity breaks', async () => {
    await useFormat({ type: 'base10', prefix: 'sn', options: { length: 4, casing: 'lower' } });
    expect(assertError(await api.call('addIdentity', { identity: 'x1234' }), 400, 'identity')).toContain(
      '"sn"',
    );
    expect(assertError(await api.call('addIdentity', { identity: 'sn123' }), 400, 'identity')).toContain('4');
    await useFormat({ type: 'mac:48', options: { mac_base: '00:1A:2B' } });
    const message = assertError(await api.call('addIdentity', { identity: '00:00:00:00:00:01' }), 400);
    expect(message).toContain('00:1A:2B');
  });

  it('ignores the prefix for formats other than base10 and base16, as the reference says', async () => {
    await useFormat({ type: 'opaque', prefix: 'sn' });
    await expectAccepted('no-prefix');
  });

  it('keeps identities added under an earlier format', async () => {
    await api.ok('addIdentity', { identity: 'legacy' });
    await useFormat({ type: 'base10' });
    expect((await api.ok('getIdentity', { identity: 'legacy' })).identity).toBe('legacy');
    expect((await api.call('removeIdentity', { identity: 'legacy' })).status).toBe(205);
  });

  it('refuses a prefix that breaks the casing with 400 naming identity_format.prefix', async () => {
    const reply = await api.call('updateGatewaySettings', {
      identity_format: { type: 'base10', prefix: 'SN', options: { casing: 'lower' } },
    });
    assertError(reply, 400, 'identity_format.prefix');
    expect((await api.ok('getGatewaySettings', {})).identity_format.type).toBe('opaque');
  });
});

/** What a generated identity must look like, per format. */
const GENERATED: [string, Format, RegExp][] = [
  ['mac:48', { type: 'mac:48' }, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/],
  [
    'mac-48 in upper case',
    { type: 'mac-48', options: { casing: 'upper' } },
    /^[0-9A-F]{2}(-[0-9A-F]{2}){5}$/,
  ],
  [
    'mac.48 with a MAC base',
    { type: 'mac.48', options: { mac_base: '00:1A:2B' } },
    /^001\.a2b\.[0-9a-f]{3}\.[0-9a-f]{3}$/,
  ],
  [
    'mac:48 with a MAC base',
    { type: 'mac:48', options: { mac_base: 'AA-BB-CC' } },
    /^aa:bb:cc(:[0-9a-f]{2}){3}$/,
  ],
  ['uuidv4', { type: 'uuidv4' }, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/],
  ['base10 with prefix and length', { type: 'base10', prefix: 'sn', options: { length: 8 } }, /^sn\d{8}$/],
  [
    'base16 in upper case',
    { type: 'base16', prefix: 'X', options: { length: 6, casing: 'upper' } },
    /^X[0-9A-F]{6}$/,
  ],
  ['base16 in lower case', { type: 'base16', options: { length: 6, casing: 'lower' } }, /^[0-9a-f]{6}$/],
  ['opaque', { type: 'opaque' }, /^.+$/],
];

describe('makeIdentity', () => {
  it.each(GENERATED)('generates a conforming %s identity', async (_name, format, shape) => {
    await useFormat(format);
    const made = await api.ok('makeIdentity', {});
    expect(made.identity).toMatch(shape);
    expect(made).toMatchObject({ status: 'whitelisted', auth: { key: null } });
    // addIdentity judges the same identity by the format: a conflict, not a format violation
    assertError(await api.call('addIdentity', { identity: made.identity }), 409);
  });

  it('answers with the full view of the new identity, credentials withheld', async () => {
    const made = await api.ok('makeIdentity', { locked: true, auth: { type: 'token', key: 'a-token' } });
    expect(made).toMatchObject({
      status: 'locked',
      locked: true,
      auth: { type: 'token', key: null },
      online: false,
      lastseen: null,
      tags: [],
    });
    expect(await api.ok('getIdentity', { identity: made.identity })).toEqual(made);
  });

  it('refuses certificate identities, which must be named by their certificate, with 400', async () => {
    assertError(await api.call('makeIdentity', { auth: { type: 'certificate' } }), 400, 'auth.type');
    expect((await api.ok('countIdentities', {})).count).toBe(0);
  });

  it('fills a base10 space of length 1 with its 10 identities and then answers 409', async () => {
    await useFormat({ type: 'base10', options: { length: 1 } });
    const made: string[] = [];
    for (let i = 0; i < 10; i++) made.push((await api.ok('makeIdentity', {})).identity);
    expect(made.sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assertError(await api.call('makeIdentity', {}), 409);
    expect((await api.ok('countIdentities', {})).count).toBe(10);
  });

  it('finds the last free identity of a small space that was mostly filled by hand', async () => {
    await useFormat({ type: 'base16', prefix: 'K', options: { length: 1, casing: 'upper' } });
    const all = [...'0123456789ABCDEF'].map((digit) => `K${digit}`);
    for (const identity of all.filter((i) => i !== 'KC')) await api.ok('addIdentity', { identity });
    expect((await api.ok('makeIdentity', {})).identity).toBe('KC');
    assertError(await api.call('makeIdentity', {}), 409);
  });

  it('gives every identity the initial value of settable resources', async () => {
    await api.ok('addResource', { alias: 'mode', format: 'string', settable: true, initial: 'auto' });
    const made = await api.ok('makeIdentity', {});
    expect(made.state).toEqual({ mode: { set: 'auto', timestamp: api.clock.now } });
  });
});
