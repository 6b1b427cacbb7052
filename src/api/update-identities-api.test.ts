import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, SECOND, seedFleet, startTestApi, T0, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
  await seedFleet(api);
});
afterEach(async () => {
  await api.close();
});

async function tagsOf(identity: string): Promise<string[]> {
  return (await api.ok('getIdentity', { identity })).tags.map((t) => `${t.name}=${t.value}`);
}

describe('updateIdentities', () => {
  it('adds tags to every identity the filters match, and to no other', async () => {
    const reply = await api.call('updateIdentities', {
      status: 'online',
      add: { tags: [{ name: 'batch', value: '7' }] },
    });
    expect(reply.status).toBe(204);
    expect(
      await api.ok('listIdentities', { tag: 'batch', 'tag.value': '7', order: 'identity' }),
    ).toMatchObject({
      devices: [{ identity: 'alpha' }, { identity: 'charlie' }],
    });
    expect(await tagsOf('bravo')).not.toContain('batch=7');
  });

  it('keeps existing values when adding a value to a tag name', async () => {
    await api.ok('updateIdentities', {
      identity: '^echo$',
      add: { tags: [{ name: 'site', value: 'west' }] },
    });
    expect(await tagsOf('echo')).toEqual(['site=east', 'site=north', 'site=west']);
  });

  it('removes one value of a tag, or every value when none is given', async () => {
    await api.ok('updateIdentities', {
      tag: 'site',
      'tag.value': 'north',
      remove: { tags: [{ name: 'site', value: 'north' }, { name: 'device-type' }] },
    });
    expect(await tagsOf('echo')).toEqual(['site=east']);
    expect(await tagsOf('alpha')).toEqual(['installed=20020101']);
    expect(await tagsOf('bravo')).toEqual(['device-type=camera', 'installed=20050101', 'site=south']);
  });

  it('sets state on the matching identities through the resource rules', async () => {
    await api.ok('addResource', {
      alias: 'mode',
      format: 'string',
      settable: true,
      allowed: ['eco', 'boost'],
    });
    api.clock.advance(SECOND);
    await api.ok('updateIdentities', {
      ipaddress: '10.0.0.1',
      update: { state: { temp: '21.5', mode: 'eco' } },
    });
    // temp is not synced, so it is reported at once; mode waits for the device
    expect((await api.ok('getIdentity', { identity: 'alpha' })).state).toEqual({
      temp: { set: 21.5, reported: 21.5, timestamp: T0 + SECOND },
      mode: { set: 'eco', timestamp: T0 + SECOND },
    });
    expect((await api.ok('getIdentityState', { identity: 'bravo' })).temp).toEqual({
      set: 5,
      reported: 5,
      timestamp: T0,
    });
  });

  it('applies additions, removals and state in one call', async () => {
    await api.ok('updateIdentities', {
      identity: '^alpha$',
      add: { tags: [{ name: 'owner', value: 'ops' }] },
      remove: { tags: [{ name: 'installed' }] },
      update: { state: { temp: 1 } },
    });
    const alpha = await api.ok('getIdentity', { identity: 'alpha' });
    expect(alpha.tags.map((t) => t.name)).toEqual(['device-type', 'owner', 'site']);
    expect(alpha.state.temp?.reported).toBe(1);
  });

  it('changes every identity when no filter is given', async () => {
    await api.ok('updateIdentities', { add: { tags: [{ name: 'fleet', value: 'all' }] } });
    expect((await api.ok('countIdentities', { tag: 'fleet' })).count).toBe(5);
  });

  it('answers 204 and changes nothing when no identity matches', async () => {
    const before = await api.dump();
    const reply = await api.call('updateIdentities', {
      identity: '^zulu',
      add: { tags: [{ name: 'x', value: 'y' }] },
    });
    expect(reply.status).toBe(204);
    expect(await api.dump()).toEqual(before);
  });

  it.each([
    ['nothing to change', { status: 'online' }, 400, 'update'],
    ['empty change lists', { add: { tags: [] }, remove: { tags: [] } }, 400, 'update'],
    ['a value outside the format', { update: { state: { temp: 'warm' } } }, 400, 'update.state.temp'],
    ['an undefined resource', { update: { state: { humidity: 3 } } }, 400, 'update.state.humidity'],
    ['an unknown filter', { colour: 'red', add: { tags: [{ name: 'a', value: 'b' }] } }, 400, 'colour'],
    ['a bad status filter', { status: 'asleep', update: { state: { temp: 1 } } }, 400, 'status'],
    ['a bad regex filter', { identity: '[', update: { state: { temp: 1 } } }, 400, 'identity'],
    ['a tag without value to add', { add: { tags: [{ name: 'a' }] } }, 400, 'add.tags[0].value'],
    [
      'a tag name too long',
      { add: { tags: [{ name: 'n'.repeat(129), value: 'v' }] } },
      400,
      'add.tags[0].name',
    ],
    [
      'a tag name over 128 bytes',
      { add: { tags: [{ name: 'é'.repeat(65), value: 'v' }] } },
      400,
      'add.tags[0].name',
    ],
    ['a state value that is an object', { update: { state: { temp: { v: 1 } } } }, 400, 'update.state.temp'],
    ['an unknown change', { update: { tags: [] } }, 400, 'update.tags'],
  ])(
    'refuses %s with 400 or 409 naming the parameter, changing nothing',
    async (_case, params, status, parameter) => {
      const before = await api.dump();
      assertError(await api.call('updateIdentities', params), status, parameter);
      expect(await api.dump()).toEqual(before);
    },
  );

  it('refuses to set a resource that is not settable with 409, changing nothing', async () => {
    await api.ok('addResource', { alias: 'uptime', format: 'number' });
    const before = await api.dump();
    const reply = await api.call('updateIdentities', {
      add: { tags: [{ name: 'a', value: 'b' }] },
      update: { state: { temp: 1, uptime: 5 } },
    });
    assertError(reply, 409, 'uptime');
    expect(await api.dump()).toEqual(before);
  });
});
