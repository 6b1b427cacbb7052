import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, SECOND, startTestApi, T0, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
  await api.ok('addResource', { alias: 'setpoint', format: 'number', settable: true, allowed: ['9-11', 20] });
  await api.ok('addResource', { alias: 'mode', format: 'string', settable: true, sync: false });
  await api.ok('addResource', { alias: 'on', format: 'boolean', settable: true });
  await api.ok('addResource', { alias: 'note', format: 'string', settable: true });
  await api.ok('addResource', { alias: 'uptime', format: 'number' });
  await api.ok('addIdentity', { identity: 'dev' });
});
afterEach(async () => {
  await api.close();
});

const state = () => api.ok('getIdentityState', { identity: 'dev' });

describe('getIdentityState', () => {
  it('answers an empty state for a new identity and 404 for an unknown one', async () => {
    expect(await state()).toEqual({});
    assertError(await api.call('getIdentityState', { identity: 'ghost' }), 404, 'ghost');
  });
});

describe('setIdentityState', () => {
  it('assigns only the set value of a sync resource, stamped in µs', async () => {
    const reply = await api.call('setIdentityState', { identity: 'dev', setpoint: 10 });
    expect(reply.status).toBe(204);
    expect(await state()).toEqual({ setpoint: { set: 10, timestamp: T0 } });
  });

  it('assigns set and reported at once for a resource with sync=false', async () => {
    await api.ok('setIdentityState', { identity: 'dev', mode: 'eco' });
    expect(await state()).toEqual({ mode: { set: 'eco', reported: 'eco', timestamp: T0 } });
  });

  it('keeps the reported value of a sync resource when a new value is set', async () => {
    await api.ok('setIdentityState', { identity: 'dev', setpoint: 10, simulate: true });
    api.clock.advance(5 * SECOND);
    await api.ok('setIdentityState', { identity: 'dev', setpoint: 11 });
    expect(await state()).toEqual({ setpoint: { set: 11, reported: 10, timestamp: T0 + 5 * SECOND } });
  });

  it('sets several resources in one call', async () => {
    await api.ok('setIdentityState', { identity: 'dev', setpoint: 20, mode: 'boost', on: false });
    expect(await state()).toEqual({
      setpoint: { set: 20, timestamp: T0 },
      mode: { set: 'boost', reported: 'boost', timestamp: T0 },
      on: { set: false, timestamp: T0 },
    });
  });

  it('simulates a device report: set and reported assigned and a data_in event raised', async () => {
    await api.ok('setIdentityState', { identity: 'dev', setpoint: 9, simulate: true });
    expect(await state()).toEqual({ setpoint: { set: 9, reported: 9, timestamp: T0 } });
    expect(api.events).toEqual([
      expect.objectContaining({
        type: 'data_in',
        identity: 'dev',
        timestamp: T0,
        payload: [{ timestamp: T0, values: { setpoint: 9 } }],
        updated_resources: ['setpoint'],
      }),
    ]);
  });

  it('raises no event without simulate', async () => {
    await api.ok('setIdentityState', { identity: 'dev', setpoint: 9, simulate: false });
    expect(api.events).toEqual([]);
  });

  it.each([
    [9, 9],
    [11, 11],
    [10.5, 10.5],
    ['10', 10],
    [20, 20],
  ])('accepts %j for a number resource allowed "9-11" and 20, storing %j', async (value, stored) => {
    await api.ok('setIdentityState', { identity: 'dev', setpoint: value });
    expect((await state()).setpoint?.set).toBe(stored);
  });

  it.each([[8.99], [12], [19], ['ten'], [''], [true]])(
    'refuses %j for a number resource allowed "9-11" and 20 with 400 naming it',
    async (value) => {
      assertError(await api.call('setIdentityState', { identity: 'dev', setpoint: value }), 400, 'setpoint');
      expect(await state()).toEqual({});
    },
  );

  it('converts device-style text for boolean resources and refuses other values', async () => {
    await api.ok('setIdentityState', { identity: 'dev', on: 'true' });
    expect((await state()).on?.set).toBe(true);
    await api.ok('setIdentityState', { identity: 'dev', on: 0 });
    expect((await state()).on?.set).toBe(false);
    assertError(await api.call('setIdentityState', { identity: 'dev', on: 'yes' }), 400, 'on');
  });

  it('stores numbers and booleans set on a string resource as text', async () => {
    await api.ok('setIdentityState', { identity: 'dev', note: 42 });
    expect((await state()).note?.set).toBe('42');
  });

  it('accepts string values up to 64 KiB and refuses longer ones with 400', async () => {
    const limit = 'x'.repeat(65536);
    await api.ok('setIdentityState', { identity: 'dev', note: limit });
    expect((await state()).note?.set).toBe(limit);
    assertError(await api.call('setIdentityState', { identity: 'dev', note: `${limit}y` }), 400, 'note');
    // counted in bytes: 32768 two-byte characters fill the 64 KiB
    assertError(
      await api.call('setIdentityState', { identity: 'dev', note: 'é'.repeat(32769) }),
      400,
      'note',
    );
    expect((await state()).note?.set).toBe(limit);
  });

  it('refuses a resource that is not settable with 409 naming it', async () => {
    assertError(await api.call('setIdentityState', { identity: 'dev', uptime: 5 }), 409, 'uptime');
    expect(await state()).toEqual({});
  });

  it('refuses an alias with no resource definition with 400 naming it', async () => {
    assertError(await api.call('setIdentityState', { identity: 'dev', humidity: 5 }), 400, 'humidity');
  });

  it('changes nothing when one of several values is refused', async () => {
    assertError(
      await api.call('setIdentityState', { identity: 'dev', mode: 'eco', setpoint: 50 }),
      400,
      'setpoint',
    );
    assertError(
      await api.call('setIdentityState', { identity: 'dev', mode: 'eco', uptime: 1 }),
      409,
      'uptime',
    );
    expect(await state()).toEqual({});
  });

  it('refuses a call without values with 400', async () => {
    assertError(await api.call('setIdentityState', { identity: 'dev' }), 400);
    assertError(await api.call('setIdentityState', { identity: 'dev', simulate: true }), 400);
  });

  it.each([
    [{ identity: 'dev', setpoint: { v: 1 } }, 'setpoint'],
    [{ identity: 'dev', setpoint: [10] }, 'setpoint'],
    [{ identity: 'dev', setpoint: null }, 'setpoint'],
    [{ identity: 'dev', simulate: 'yes', setpoint: 10 }, 'simulate'],
    [{ setpoint: 10 }, 'identity'],
    [{ identity: 7, setpoint: 10 }, 'identity'],
  ])('refuses %j with 400 naming %s', async (params, parameter) => {
    assertError(await api.call('setIdentityState', params), 400, parameter);
    expect(await state()).toEqual({});
  });

  it('answers 404 for an identity that does not exist', async () => {
    assertError(await api.call('setIdentityState', { identity: 'ghost', setpoint: 10 }), 404, 'ghost');
  });
});

describe('simulated reports and unknown identities', () => {
  it('simulate reports any defined resource, settable or not, as a device would', async () => {
    await api.ok('addIdentity', { identity: 'sim' });
    await api.ok('addResource', { alias: 'temperature', format: 'number' });
    await api.ok('setIdentityState', { identity: 'sim', simulate: true, temperature: 21.5 });
    expect(await api.ok('getIdentityState', { identity: 'sim' })).toMatchObject({
      temperature: { set: 21.5, reported: 21.5 },
    });
    expect(api.events.at(-1)).toMatchObject({
      type: 'data_in',
      identity: 'sim',
      updated_resources: ['temperature'],
    });
    assertError(await api.call('setIdentityState', { identity: 'sim', temperature: 1 }), 409, 'temperature');
  });

  it('answers 404 for an unknown identity before looking at its values', async () => {
    await api.ok('addResource', { alias: 'temperature', format: 'number' });
    assertError(await api.call('setIdentityState', { identity: 'ghost', temperature: 1 }), 404);
  });
});
