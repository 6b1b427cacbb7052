import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, HOUR, SECOND, startTestApi, T0, TEST_CERTIFICATE, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.close();
});

const status = async (identity: string) => (await api.ok('getIdentity', { identity })).status;
const PASSWORD = 'a-password-of-20-bytes';

describe('addIdentity and getIdentity', () => {
  it('whitelists an identity with the documented view and defaults', async () => {
    const reply = await api.call('addIdentity', { identity: 'dev-1' });
    expect(reply.status).toBe(204);
    expect(await api.ok('getIdentity', { identity: 'dev-1' })).toEqual({
      identity: 'dev-1',
      auth: { key: null, type: 'token' },
      status: 'whitelisted',
      locked: false,
      online: false,
      lastip: null,
      lastseen: null,
      tags: [],
      state: {},
    });
  });

  it('takes the default auth type from the provisioning settings', async () => {
    await api.ok('updateGatewaySettings', { provisioning: { auth_type: 'password' } });
    await api.ok('addIdentity', { identity: 'dev-1' });
    expect((await api.ok('getIdentity', { identity: 'dev-1' })).auth.type).toBe('password');
  });

  it('answers 409 when the identity exists, and keeps the first one', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', locked: true });
    assertError(await api.call('addIdentity', { identity: 'dev-1' }), 409, 'dev-1');
    expect((await api.ok('getIdentity', { identity: 'dev-1' })).locked).toBe(true);
  });

  it('answers 404 for an identity that does not exist', async () => {
    assertError(await api.call('getIdentity', { identity: 'ghost' }), 404, 'ghost');
  });
});

describe('credentials', () => {
  it('never returns a token: auth.key is null once provisioned', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { type: 'token', key: 'secret-token-value' } });
    const view = await api.ok('getIdentity', { identity: 'dev-1' });
    expect(view.auth).toEqual({ type: 'token', key: null });
    expect(view.status).toBe('provisioned');
    const listed = await api.call('listIdentities', {});
    expect(listed.text).not.toContain('secret-token-value');
  });

  it('never returns a password, and hashes it so no listing reveals it', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { type: 'password', key: PASSWORD } });
    expect((await api.ok('getIdentity', { identity: 'dev-1' })).auth).toEqual({
      type: 'password',
      key: null,
    });
    const made = await api.call('makeIdentity', { auth: { type: 'password', key: `${PASSWORD}-2` } });
    expect(made.status).toBe(200);
    expect(made.text).not.toContain(PASSWORD);
    expect((await api.call('listIdentities', {})).text).not.toContain(PASSWORD);
  });

  it('returns the PEM of a certificate identity', async () => {
    await api.ok('addIdentity', {
      identity: 'cert-device',
      auth: { type: 'certificate', key: TEST_CERTIFICATE },
    });
    const view = await api.ok('getIdentity', { identity: 'cert-device' });
    expect(view.auth).toEqual({ type: 'certificate', key: TEST_CERTIFICATE });
    expect(view.status).toBe('provisioned');
  });

  it('refuses a certificate key that is not a PEM certificate with 400 naming auth.key', async () => {
    const reply = await api.call('addIdentity', {
      identity: 'cert-device',
      auth: { type: 'certificate', key: 'not a certificate' },
    });
    assertError(reply, 400, 'auth.key');
    assertError(await api.call('getIdentity', { identity: 'cert-device' }), 404);
  });

  it('refuses a certificate whose CN is not the identity with 400 naming auth.key', async () => {
    const auth = { type: 'certificate' as const, key: TEST_CERTIFICATE };
    assertError(await api.call('addIdentity', { identity: 'other-device', auth }), 400, 'auth.key');
    assertError(await api.call('getIdentity', { identity: 'other-device' }), 404);
    await api.ok('addIdentity', { identity: 'other-device' });
    assertError(await api.call('updateIdentity', { identity: 'other-device', auth }), 400, 'auth.key');
    expect(await status('other-device')).toBe('whitelisted');
  });

  it('lets two identities share a password, which is paired with the identity', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { type: 'password', key: PASSWORD } });
    await api.ok('addIdentity', { identity: 'dev-2', auth: { type: 'password', key: PASSWORD } });
    expect(await status('dev-2')).toBe('provisioned');
  });

  it('refuses a password under 20 bytes with 400 naming auth.key, counting bytes not characters', async () => {
    const short = { identity: 'dev-1', auth: { type: 'password' as const, key: 'a'.repeat(19) } };
    assertError(await api.call('addIdentity', short), 400, 'auth.key');
    assertError(await api.call('makeIdentity', { auth: short.auth }), 400, 'auth.key');
    expect((await api.ok('countIdentities', {})).count).toBe(0);
    // ten two-byte characters make 20 bytes
    await api.ok('addIdentity', { identity: 'dev-2', auth: { type: 'password', key: 'é'.repeat(10) } });
    expect(await status('dev-2')).toBe('provisioned');
  });

  it('answers 409 naming auth.key when a token is already used by another identity', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { type: 'token', key: 'shared-token' } });
    assertError(
      await api.call('addIdentity', { identity: 'dev-2', auth: { type: 'token', key: 'shared-token' } }),
      409,
      'auth.key',
    );
    assertError(await api.call('getIdentity', { identity: 'dev-2' }), 404);
  });
});

describe('identity status', () => {
  it('turns a whitelisted identity expired when its provisioning window (auth.expire, µs) passes', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { expire: T0 + HOUR } });
    expect(await status('dev-1')).toBe('whitelisted');
    api.clock.advance(HOUR);
    expect(await status('dev-1')).toBe('whitelisted');
    api.clock.advance(1);
    expect(await status('dev-1')).toBe('expired');
  });

  it('turns a provisioned identity reprovision when its key expires', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { key: 'secret-token', expire: T0 + HOUR } });
    expect(await status('dev-1')).toBe('provisioned');
    api.clock.advance(2 * HOUR);
    expect(await status('dev-1')).toBe('reprovision');
  });

  it('reports locked whatever the credentials and expiry say', async () => {
    await api.ok('addIdentity', { identity: 'a', locked: true });
    await api.ok('addIdentity', { identity: 'b', locked: true, auth: { key: 'k-b', expire: T0 - 1 } });
    await api.ok('addIdentity', { identity: 'c', locked: true, auth: { expire: T0 - 1 } });
    for (const identity of ['a', 'b', 'c']) expect(await status(identity)).toBe('locked');
  });

  it('reads auth.expire given in seconds or milliseconds and reports it in µs', async () => {
    await api.ok('addIdentity', { identity: 's', auth: { expire: T0 / SECOND + 60 } });
    await api.ok('addIdentity', { identity: 'ms', auth: { expire: T0 / 1000 + 60_000 } });
    expect((await api.ok('getIdentity', { identity: 's' })).auth.expire).toBe(T0 + 60 * SECOND);
    expect((await api.ok('getIdentity', { identity: 'ms' })).auth.expire).toBe(T0 + 60 * SECOND);
    api.clock.advance(61 * SECOND);
    expect(await status('s')).toBe('expired');
    expect(await status('ms')).toBe('expired');
  });
});

describe('updateIdentity', () => {
  it('locks and unlocks an identity', async () => {
    await api.ok('addIdentity', { identity: 'dev-1' });
    expect((await api.call('updateIdentity', { identity: 'dev-1', locked: true })).status).toBe(204);
    expect(await status('dev-1')).toBe('locked');
    await api.ok('updateIdentity', { identity: 'dev-1', locked: false });
    expect(await status('dev-1')).toBe('whitelisted');
  });

  it('provisions with a new key, resets with a null key, and reopens an expired window', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { expire: T0 - 1 } });
    expect(await status('dev-1')).toBe('expired');
    await api.ok('updateIdentity', { identity: 'dev-1', auth: { expire: T0 + HOUR } });
    expect(await status('dev-1')).toBe('whitelisted');
    await api.ok('updateIdentity', { identity: 'dev-1', auth: { key: 'new-token' } });
    expect(await status('dev-1')).toBe('provisioned');
    await api.ok('updateIdentity', { identity: 'dev-1', auth: { key: null } });
    expect(await status('dev-1')).toBe('whitelisted');
  });

  it('clears the credential when only the auth type changes, so the device provisions again', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { key: 'a-token' } });
    await api.ok('updateIdentity', { identity: 'dev-1', auth: { type: 'password' } });
    const view = await api.ok('getIdentity', { identity: 'dev-1' });
    expect(view).toMatchObject({ status: 'whitelisted', auth: { type: 'password', key: null } });
  });

  it('checks a new password against the current auth type', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', auth: { type: 'password' } });
    assertError(
      await api.call('updateIdentity', { identity: 'dev-1', auth: { key: 'short' } }),
      400,
      'auth.key',
    );
    expect(await status('dev-1')).toBe('whitelisted');
  });

  it('answers 404 for an identity that does not exist', async () => {
    assertError(await api.call('updateIdentity', { identity: 'ghost', locked: true }), 404, 'ghost');
    assertError(await api.call('updateIdentity', { identity: 'ghost' }), 404, 'ghost');
    assertError(await api.call('updateIdentity', { identity: 'ghost', auth: { key: 'k' } }), 404, 'ghost');
  });
});

describe('removeIdentity and removeIdentities', () => {
  it('removes an identity with 205 and everything known about it, then answers 404', async () => {
    await api.ok('addResource', { alias: 'temp', format: 'number', settable: true, sync: false });
    await api.ok('addIdentity', { identity: 'dev-1' });
    await api.ok('addIdentityTag', { identity: 'dev-1', tags: [{ name: 'site', value: 'north' }] });
    await api.ok('setIdentityState', { identity: 'dev-1', temp: 3 });
    expect((await api.call('removeIdentity', { identity: 'dev-1' })).status).toBe(205);
    assertError(await api.call('getIdentity', { identity: 'dev-1' }), 404);
    assertError(await api.call('getIdentityState', { identity: 'dev-1' }), 404);
    expect(await api.ok('listTagNames', {})).toEqual([]);
    assertError(await api.call('removeIdentity', { identity: 'dev-1' }), 404, 'dev-1');
    expect(api.events).toMatchObject([{ type: 'deleted', identity: 'dev-1', timestamp: T0 }]);
  });

  it('lets a removed identity be added again from scratch', async () => {
    await api.ok('addIdentity', { identity: 'dev-1', locked: true });
    await api.ok('removeIdentity', { identity: 'dev-1' });
    await api.ok('addIdentity', { identity: 'dev-1' });
    expect(await status('dev-1')).toBe('whitelisted');
  });

  it('removes a comma-separated list of identities', async () => {
    for (const identity of ['a', 'b', 'c']) await api.ok('addIdentity', { identity });
    expect((await api.call('removeIdentities', { identities: 'a,c' })).status).toBe(204);
    expect((await api.ok('listIdentities', {})).devices.map((d) => d.identity)).toEqual(['b']);
    expect(api.events.map((e) => [e.type, e.identity])).toEqual([
      ['deleted', 'a'],
      ['deleted', 'c'],
    ]);
  });

  it('trims spaces around listed identities and ignores repeats', async () => {
    for (const identity of ['a', 'b']) await api.ok('addIdentity', { identity });
    await api.ok('removeIdentities', { identities: ' a , b,a' });
    expect((await api.ok('countIdentities', {})).count).toBe(0);
  });

  it('answers 404 naming the unknown identities and removes none when one is unknown', async () => {
    for (const identity of ['a', 'b']) await api.ok('addIdentity', { identity });
    const message = assertError(await api.call('removeIdentities', { identities: 'a,ghost,b' }), 404);
    expect(message).toContain('ghost');
    expect((await api.ok('countIdentities', {})).count).toBe(2);
    expect(api.events).toEqual([]);
  });

  it('refuses an empty entry in the list with 400 naming identities', async () => {
    await api.ok('addIdentity', { identity: 'a' });
    assertError(await api.call('removeIdentities', { identities: 'a,,b' }), 400, 'identities');
    assertError(await api.call('removeIdentities', { identities: ',' }), 400, 'identities');
    expect((await api.ok('countIdentities', {})).count).toBe(1);
  });
});

describe('review fixes on identities', () => {
  it('makeIdentity refuses certificate identities when the settings default to certificate auth', async () => {
    await api.ok('updateGatewaySettings', { provisioning: { auth_type: 'certificate' } });
    assertError(await api.call('makeIdentity', {}), 400, 'auth.type');
    expect(await api.ok('countIdentities', {})).toEqual({ count: 0 });
  });

  it('updateIdentity restating the current auth type keeps the credential', async () => {
    await api.ok('addIdentity', { identity: 't1', auth: { type: 'token', key: 'secret-token-value' } });
    await api.ok('updateIdentity', { identity: 't1', auth: { type: 'token', expire: 4_102_444_800 } });
    expect(await api.ok('getIdentity', { identity: 't1' })).toMatchObject({
      status: 'provisioned',
      auth: { type: 'token', expire: 4_102_444_800_000_000 },
    });
    await api.ok('updateIdentity', { identity: 't1', auth: { type: 'password' } });
    expect((await api.ok('getIdentity', { identity: 't1' })).status).toBe('whitelisted');
  });

  it('refuses an auth.expire that would not survive as a JSON number in microseconds', async () => {
    assertError(
      await api.call('addIdentity', { identity: 'far', auth: { expire: 99_999_999_999 } }),
      400,
      'auth.expire',
    );
  });
});
