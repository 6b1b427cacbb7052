import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, startTestApi, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
  await api.ok('addIdentity', { identity: 'dev-1' });
  await api.ok('addIdentity', { identity: 'dev-2' });
});
afterEach(async () => {
  await api.close();
});

const tag = (name: string, value: string) => ({ name, value });
const values = (identity: string, name: string) => api.ok('getIdentityTag', { identity, name });

describe('addIdentityTag and getIdentityTag', () => {
  it('adds tags, a name holding several values, and shows them on the identity', async () => {
    const reply = await api.call('addIdentityTag', {
      identity: 'dev-1',
      tags: [tag('site', 'north'), tag('site', 'east'), tag('model', 'x1')],
    });
    expect(reply.status).toBe(204);
    expect(await values('dev-1', 'site')).toEqual(['east', 'north']);
    expect((await api.ok('getIdentity', { identity: 'dev-1' })).tags).toEqual([
      tag('model', 'x1'),
      tag('site', 'east'),
      tag('site', 'north'),
    ]);
  });

  it('adds to the values of a name unless replace is true, and adding a value twice keeps one', async () => {
    await api.ok('addIdentityTag', { identity: 'dev-1', tags: [tag('site', 'north'), tag('model', 'x1')] });
    await api.ok('addIdentityTag', { identity: 'dev-1', tags: [tag('site', 'east'), tag('site', 'north')] });
    expect(await values('dev-1', 'site')).toEqual(['east', 'north']);
    await api.ok('addIdentityTag', { identity: 'dev-1', replace: true, tags: [tag('site', 'west')] });
    expect(await values('dev-1', 'site')).toEqual(['west']);
    expect(await values('dev-1', 'model')).toEqual(['x1']);
    await api.ok('addIdentityTag', { identity: 'dev-1', replace: false, tags: [tag('site', 'south')] });
    expect(await values('dev-1', 'site')).toEqual(['south', 'west']);
  });

  it('keeps tags per identity', async () => {
    await api.ok('addIdentityTag', { identity: 'dev-1', tags: [tag('site', 'north')] });
    expect(await values('dev-2', 'site')).toEqual([]);
  });

  it('takes an empty value, and values up to 4096 bytes', async () => {
    const long = 'é'.repeat(2048);
    await api.ok('addIdentityTag', { identity: 'dev-1', tags: [tag('flag', ''), tag('note', long)] });
    expect(await values('dev-1', 'flag')).toEqual(['']);
    expect(await values('dev-1', 'note')).toEqual([long]);
  });

  it.each([
    ['a name over 128 bytes', [tag('é'.repeat(65), 'v')], 'tags[0].name'],
    ['a value over 4096 bytes', [tag('ok', 'v'), tag('note', 'é'.repeat(2049))], 'tags[1].value'],
    ['an empty name', [tag('', 'v')], 'tags[0].name'],
    ['a tag without value', [{ name: 'site' }], 'tags[0].value'],
    ['a number value', [{ name: 'site', value: 3 }], 'tags[0].value'],
    ['no tags', [], 'tags'],
    ['tags that are not an array', { site: 'north' }, 'tags'],
    ['an unknown tag field', [{ name: 'a', value: 'b', colour: 'red' }], 'tags[0].colour'],
  ])('refuses %s with 400 naming the parameter, adding nothing', async (_case, tags, parameter) => {
    assertError(await api.call('addIdentityTag', { identity: 'dev-1', tags }), 400, parameter);
    expect(await api.ok('listTagNames', {})).toEqual([]);
  });

  it('refuses a non-boolean replace with 400 naming replace', async () => {
    assertError(
      await api.call('addIdentityTag', { identity: 'dev-1', replace: 'yes', tags: [tag('a', 'b')] }),
      400,
      'replace',
    );
  });

  it('answers 404 for an identity that does not exist', async () => {
    assertError(await api.call('addIdentityTag', { identity: 'ghost', tags: [tag('a', 'b')] }), 404, 'ghost');
    assertError(await api.call('getIdentityTag', { identity: 'ghost', name: 'a' }), 404, 'ghost');
    expect(await api.ok('listTagNames', {})).toEqual([]);
  });

  it('answers an empty list for a tag name the identity does not carry', async () => {
    expect(await values('dev-1', 'nope')).toEqual([]);
  });
});

describe('listTagNames', () => {
  it('lists every tag name in the gateway once, sorted', async () => {
    expect(await api.ok('listTagNames', {})).toEqual([]);
    await api.ok('addIdentityTag', { identity: 'dev-1', tags: [tag('site', 'a'), tag('model', 'b')] });
    await api.ok('addIdentityTag', { identity: 'dev-2', tags: [tag('site', 'c'), tag('area', 'd')] });
    expect(await api.ok('listTagNames', {})).toEqual(['area', 'model', 'site']);
  });

  it('refuses parameters, since it takes none', async () => {
    assertError(await api.call('listTagNames', { name: 'site' }), 400, 'name');
  });
});

describe('removeIdentityTag', () => {
  beforeEach(async () => {
    await api.ok('addIdentityTag', {
      identity: 'dev-1',
      tags: [tag('site', 'a'), tag('site', 'b'), tag('site', 'c'), tag('model', 'x')],
    });
  });

  it('removes a tag with all its values', async () => {
    expect((await api.call('removeIdentityTag', { identity: 'dev-1', name: 'site' })).status).toBe(204);
    expect(await values('dev-1', 'site')).toEqual([]);
    expect(await api.ok('listTagNames', {})).toEqual(['model']);
  });

  it('removes only the comma-separated values given, keeping the others', async () => {
    await api.ok('removeIdentityTag', { identity: 'dev-1', name: 'site', value: 'a,c' });
    expect(await values('dev-1', 'site')).toEqual(['b']);
    await api.ok('removeIdentityTag', { identity: 'dev-1', name: 'site', value: 'b' });
    expect(await api.ok('listTagNames', {})).toEqual(['model']);
  });

  it('ignores values and names the identity does not carry', async () => {
    await api.ok('removeIdentityTag', { identity: 'dev-1', name: 'site', value: 'zz,a' });
    expect(await values('dev-1', 'site')).toEqual(['b', 'c']);
    expect((await api.call('removeIdentityTag', { identity: 'dev-1', name: 'nope' })).status).toBe(204);
  });

  it('answers 404 for an identity that does not exist', async () => {
    assertError(await api.call('removeIdentityTag', { identity: 'ghost', name: 'site' }), 404, 'ghost');
  });

  it.each([
    [{ identity: 'dev-1' }, 'name'],
    [{ identity: 'dev-1', name: '' }, 'name'],
    [{ identity: 'dev-1', name: 'site', value: ['a'] }, 'value'],
    [{ name: 'site' }, 'identity'],
  ])('refuses %j with 400 naming %s', async (params, parameter) => {
    assertError(await api.call('removeIdentityTag', params), 400, parameter);
    expect(await values('dev-1', 'site')).toEqual(['a', 'b', 'c']);
  });
});

describe('identity permissions', () => {
  it('starts with empty subscript and publish_as lists', async () => {
    expect(await api.ok('getIdentityPermission', { identity: 'dev-1' })).toEqual({
      subscript: { identities: [] },
      publish_as: { identities: [] },
    });
  });

  it('replaces only the permission entities given', async () => {
    const reply = await api.call('updateIdentityPermission', {
      identity: 'dev-1',
      permission: { publish_as: { identities: ['dev-2', 'dev-3'] } },
    });
    expect(reply.status).toBe(204);
    await api.ok('updateIdentityPermission', {
      identity: 'dev-1',
      permission: { subscript: { identities: ['*'] } },
    });
    await api.ok('updateIdentityPermission', {
      identity: 'dev-1',
      permission: { publish_as: { identities: ['dev-2'] } },
    });
    expect(await api.ok('getIdentityPermission', { identity: 'dev-1' })).toEqual({
      subscript: { identities: ['*'] },
      publish_as: { identities: ['dev-2'] },
    });
    expect((await api.ok('getIdentityPermission', { identity: 'dev-2' })).publish_as).toEqual({
      identities: [],
    });
  });

  it('answers 404 for an identity that does not exist', async () => {
    assertError(await api.call('getIdentityPermission', { identity: 'ghost' }), 404, 'ghost');
    const update = { identity: 'ghost', permission: { subscript: { identities: [] } } };
    assertError(await api.call('updateIdentityPermission', update), 404, 'ghost');
  });

  it.each([
    [{ identity: 'dev-1' }, 'permission'],
    [{ identity: 'dev-1', permission: { publish_as: ['dev-2'] } }, 'permission.publish_as'],
    [
      { identity: 'dev-1', permission: { publish_as: { identities: 'dev-2' } } },
      'permission.publish_as.identities',
    ],
    [
      { identity: 'dev-1', permission: { subscript: { identities: ['a,b'] } } },
      'permission.subscript.identities[0]',
    ],
    [
      { identity: 'dev-1', permission: { subscript: { identities: [''] } } },
      'permission.subscript.identities[0]',
    ],
    [{ identity: 'dev-1', permission: { admin: { identities: [] } } }, 'permission.admin'],
  ])('refuses %j with 400 naming %s, changing nothing', async (params, parameter) => {
    assertError(await api.call('updateIdentityPermission', params), 400, parameter);
    expect((await api.ok('getIdentityPermission', { identity: 'dev-1' })).publish_as).toEqual({
      identities: [],
    });
  });
});
