import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, SECOND, startTestApi, T0, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.close();
});

const definition = (alias: string) => api.ok('getGatewayResource', { alias });

describe('addResource and getGatewayResource', () => {
  it('defines a resource with the documented defaults', async () => {
    const reply = await api.call('addResource', { alias: 'temp' });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(await definition('temp')).toEqual({
      format: 'string',
      sync: true,
      settable: false,
      retention: '12',
    });
  });

  it('keeps every field of a full definition', async () => {
    const full = {
      format: 'number' as const,
      unit: '°C',
      sync: false,
      settable: true,
      allowed: ['9-11', 15, '20.5-21.5'],
      initial: 10,
      timeout: 300,
      retention: '36' as const,
      script: { qos: 1, enabled: true, enable: true },
      cloud_sync: { enable: false },
      replication: { enabled: true },
    };
    await api.ok('addResource', { alias: 'setpoint', ...full });
    expect(await definition('setpoint')).toEqual(full);
    expect(await api.ok('getGatewayResourceList', {})).toEqual({ setpoint: full });
  });

  it('lists every definition by alias', async () => {
    await api.ok('addResource', { alias: 'b', format: 'boolean' });
    await api.ok('addResource', { alias: 'a', format: 'number' });
    const list = await api.ok('getGatewayResourceList', {});
    expect(Object.keys(list).sort()).toEqual(['a', 'b']);
    expect(list.b?.format).toBe('boolean');
  });

  it('answers 409 naming the alias when it is already defined, keeping the first definition', async () => {
    await api.ok('addResource', { alias: 'temp', format: 'number' });
    assertError(await api.call('addResource', { alias: 'temp', format: 'string' }), 409, 'temp');
    expect((await definition('temp')).format).toBe('number');
  });

  it('answers 404 for a resource that is not defined', async () => {
    assertError(await api.call('getGatewayResource', { alias: 'nope' }), 404, 'nope');
    assertError(await api.call('updateResource', { alias: 'nope', unit: 'x' }), 404, 'nope');
    assertError(await api.call('removeResource', { alias: 'nope' }), 404, 'nope');
  });

  it.each([['0'], ['3'], ['6'], ['12'], ['36'], ['60'], ['120']])(
    'accepts the retention "%s"',
    async (retention) => {
      await api.ok('addResource', { alias: 'r', retention: retention as '12' });
      expect((await definition('r')).retention).toBe(retention);
    },
  );

  it('accepts timeouts from 30 to 86400 seconds', async () => {
    await api.ok('addResource', { alias: 'low', timeout: 30 });
    await api.ok('addResource', { alias: 'high', timeout: 86400 });
    expect([(await definition('low')).timeout, (await definition('high')).timeout]).toEqual([30, 86400]);
  });

  it('accepts the allowed rules of each format', async () => {
    await api.ok('addResource', { alias: 'mode', format: 'string', allowed: ['eco', 'boost'] });
    await api.ok('addResource', { alias: 'on', format: 'boolean', allowed: [true] });
    await api.ok('addResource', { alias: 'level', format: 'number', allowed: [1, 2, '-5--1'] });
    expect((await definition('level')).allowed).toEqual([1, 2, '-5--1']);
  });
});

describe('resource definitions refused', () => {
  it.each([
    ['an alias with a dot', { alias: 'a.b' }, 'alias'],
    ['an alias with a dollar', { alias: '$a' }, 'alias'],
    ['an alias with a topic separator', { alias: 'a/b' }, 'alias'],
    ['an alias with an MQTT wildcard', { alias: 'a+' }, 'alias'],
    ['an empty alias', { alias: '' }, 'alias'],
    ['an alias over 128 characters', { alias: 'a'.repeat(129) }, 'alias'],
    ['no alias', { format: 'number' }, 'alias'],
    ['an unknown format', { alias: 'x', format: 'integer' }, 'format'],
    ['a timeout under 30', { alias: 'x', timeout: 29 }, 'timeout'],
    ['a timeout over 86400', { alias: 'x', timeout: 86401 }, 'timeout'],
    ['a fractional timeout', { alias: 'x', timeout: 60.5 }, 'timeout'],
    ['a retention outside the enum', { alias: 'x', retention: '24' }, 'retention'],
    ['a numeric retention', { alias: 'x', retention: 12 }, 'retention'],
    ['a non-boolean sync', { alias: 'x', sync: 'no' }, 'sync'],
    ['a non-boolean settable', { alias: 'x', settable: 1 }, 'settable'],
    ['a script qos over 2', { alias: 'x', script: { qos: 3 } }, 'script.qos'],
    ['an unknown script field', { alias: 'x', script: { lang: 'lua' } }, 'script.lang'],
    ['a unit over 64 characters', { alias: 'x', unit: 'u'.repeat(65) }, 'unit'],
    ['an unknown field', { alias: 'x', colour: 'red' }, 'colour'],
    ['allowed that is not an array', { alias: 'x', allowed: 'a' }, 'allowed'],
    ['an allowed object', { alias: 'x', allowed: [{}] }, 'allowed[0]'],
    [
      'an allowed text on a number resource',
      { alias: 'x', format: 'number', allowed: ['high'] },
      'allowed[0]',
    ],
    ['a half range on a number resource', { alias: 'x', format: 'number', allowed: [1, '9-'] }, 'allowed[1]'],
    ['an allowed number on a string resource', { alias: 'x', allowed: ['a', 3] }, 'allowed[1]'],
    [
      'an allowed text on a boolean resource',
      { alias: 'x', format: 'boolean', allowed: ['yes'] },
      'allowed[0]',
    ],
    ['an initial value on a resource that is not settable', { alias: 'x', initial: 'a' }, 'initial'],
    [
      'an initial value outside the format',
      { alias: 'x', format: 'number', settable: true, initial: 'a' },
      'initial',
    ],
    [
      'an initial value not allowed',
      { alias: 'x', format: 'number', settable: true, allowed: ['9-11'], initial: 12 },
      'initial',
    ],
    ['an initial object', { alias: 'x', settable: true, initial: {} }, 'initial'],
  ])('refuses %s with 400 naming the parameter', async (_case, params, parameter) => {
    assertError(await api.call('addResource', params), 400, parameter);
    expect(await api.ok('getGatewayResourceList', {})).toEqual({});
  });
});

describe('updateResource and removeResource', () => {
  beforeEach(async () => {
    await api.ok('addResource', { alias: 'level', format: 'number', allowed: ['1-3'], unit: 'm' });
  });

  it('replaces the given fields and keeps the others', async () => {
    expect((await api.call('updateResource', { alias: 'level', unit: 'cm', timeout: 60 })).status).toBe(204);
    expect(await definition('level')).toEqual({
      format: 'number',
      allowed: ['1-3'],
      unit: 'cm',
      timeout: 60,
      sync: true,
      settable: false,
      retention: '12',
    });
  });

  it('checks the updated definition as a whole', async () => {
    assertError(await api.call('updateResource', { alias: 'level', format: 'boolean' }), 400, 'allowed[0]');
    assertError(await api.call('updateResource', { alias: 'level', initial: 2 }), 400, 'initial');
    assertError(
      await api.call('updateResource', { alias: 'level', settable: true, initial: 5 }),
      400,
      'initial',
    );
    expect((await definition('level')).format).toBe('number');
    await api.ok('updateResource', { alias: 'level', settable: true, initial: '2' });
    expect((await definition('level')).initial).toBe(2);
  });

  it('removes an optional field given null, so an initial value can be dropped with settable', async () => {
    await api.ok('updateResource', { alias: 'level', settable: true, initial: 2, timeout: 60 });
    assertError(await api.call('updateResource', { alias: 'level', settable: false }), 400, 'initial');
    await api.ok('updateResource', {
      alias: 'level',
      settable: false,
      initial: null,
      unit: null,
      timeout: null,
    });
    expect(await definition('level')).toEqual({
      format: 'number',
      allowed: ['1-3'],
      sync: true,
      settable: false,
      retention: '12',
    });
    await api.ok('updateResource', { alias: 'level', allowed: null, format: 'boolean' });
    expect((await definition('level')).allowed).toBeUndefined();
  });

  it('refuses null for the fields every definition has, and in addResource', async () => {
    for (const field of ['format', 'sync', 'settable', 'retention']) {
      assertError(await api.call('updateResource', { alias: 'level', [field]: null }), 400, field);
    }
    assertError(await api.call('addResource', { alias: 'other', unit: null }), 400, 'unit');
    expect((await definition('level')).unit).toBe('m');
  });

  it('refuses out-of-range fields on update with 400 naming them', async () => {
    assertError(await api.call('updateResource', { alias: 'level', timeout: 10 }), 400, 'timeout');
    assertError(await api.call('updateResource', { alias: 'level', retention: '1' }), 400, 'retention');
    expect((await definition('level')).timeout).toBeUndefined();
  });

  it('removes a definition together with every identity state entry for it', async () => {
    await api.ok('updateResource', { alias: 'level', settable: true });
    await api.ok('addIdentity', { identity: 'dev' });
    await api.ok('setIdentityState', { identity: 'dev', level: 2 });
    expect((await api.call('removeResource', { alias: 'level' })).status).toBe(204);
    assertError(await api.call('getGatewayResource', { alias: 'level' }), 404);
    expect(await api.ok('getIdentityState', { identity: 'dev' })).toEqual({});
    await api.ok('addResource', { alias: 'level' });
  });
});

describe('initial values', () => {
  it('gives existing and new identities the initial set value of a settable resource', async () => {
    await api.ok('addIdentity', { identity: 'old' });
    api.clock.advance(SECOND);
    await api.ok('addResource', { alias: 'mode', settable: true, initial: 'auto' });
    api.clock.advance(SECOND);
    await api.ok('addIdentity', { identity: 'new' });
    expect(await api.ok('getIdentityState', { identity: 'old' })).toEqual({
      mode: { set: 'auto', timestamp: T0 + SECOND },
    });
    expect(await api.ok('getIdentityState', { identity: 'new' })).toEqual({
      mode: { set: 'auto', timestamp: T0 + 2 * SECOND },
    });
  });

  it('stores the initial value in the resource format', async () => {
    await api.ok('addResource', { alias: 'on', format: 'boolean', settable: true, initial: 'true' });
    expect((await definition('on')).initial).toBe(true);
  });
});

describe('reserved aliases', () => {
  it('refuses "identity" and "simulate", which setIdentityState could never set', async () => {
    for (const alias of ['identity', 'simulate']) {
      expect(assertError(await api.call('addResource', { alias, settable: true }), 400, 'alias')).toContain(
        'reserved',
      );
    }
  });
});

describe('updateResource with a new initial value', () => {
  it('gives it to identities that have no value yet and leaves the others', async () => {
    await api.ok('addIdentity', { identity: 'new-device' });
    await api.ok('addIdentity', { identity: 'set-device' });
    await api.ok('addResource', { alias: 'mode', settable: true });
    await api.ok('setIdentityState', { identity: 'set-device', mode: 'manual' });
    await api.ok('updateResource', { alias: 'mode', initial: 'auto' });
    expect(await api.ok('getIdentityState', { identity: 'new-device' })).toMatchObject({
      mode: { set: 'auto' },
    });
    expect(await api.ok('getIdentityState', { identity: 'set-device' })).toMatchObject({
      mode: { set: 'manual' },
    });
  });
});
