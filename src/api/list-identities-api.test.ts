import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, HOUR, seedFleet, startTestApi, T0, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
  await seedFleet(api);
});
afterEach(async () => {
  await api.close();
});

/** The identities listIdentities returns for `filters`, sorted by name; countIdentities must agree. */
async function matching(filters: Record<string, unknown>): Promise<string[]> {
  const listed = await api.call('listIdentities', { ...filters, order: 'identity' });
  expect(listed.status, listed.text).toBe(200);
  const names = (listed.body as { devices: { identity: string }[] }).devices.map((d) => d.identity);
  const counted = await api.call('countIdentities', filters);
  expect(counted.body).toEqual({ count: names.length });
  return names;
}

const criteria = (...list: [string, string, string][]) =>
  JSON.stringify(list.map(([name, operator, value]) => ({ name, operator, value })));

describe('listIdentities and countIdentities filters', () => {
  it('lists every identity with its derived status when no filter is given', async () => {
    const { devices, mayLoadMore } = await api.ok('listIdentities', { order: 'identity' });
    expect(devices.map((d) => [d.identity, d.status, d.online])).toEqual([
      ['alpha', 'provisioned', true],
      ['bravo', 'whitelisted', false],
      ['charlie', 'locked', true],
      ['delta', 'expired', false],
      ['echo', 'reprovision', false],
    ]);
    expect(mayLoadMore).toBe(false);
    expect(devices[0]).toMatchObject({
      lastip: '10.0.0.1',
      lastseen: T0 - 3 * HOUR,
      state: { temp: { set: 20, reported: 20, timestamp: T0 } },
    });
  });

  it.each([
    ['provisioned', ['alpha']],
    ['whitelisted', ['bravo']],
    ['locked', ['charlie']],
    ['expired', ['delta']],
    ['reprovision', ['echo']],
    ['locked,expired', ['charlie', 'delta']],
    [' whitelisted , reprovision ', ['bravo', 'echo']],
    ['online', ['alpha', 'charlie']],
    ['offline', ['bravo', 'delta', 'echo']],
    ['online,offline', ['alpha', 'bravo', 'charlie', 'delta', 'echo']],
    ['locked,online', ['charlie']],
    ['provisioned,whitelisted,offline', ['bravo']],
  ])('filters by status "%s"', async (status, expected) => {
    expect(await matching({ status })).toEqual(expected);
  });

  it('derives statuses at the time of the query', async () => {
    api.clock.advance(2 * HOUR);
    expect(await matching({ status: 'expired' })).toEqual(['bravo', 'delta']);
  });

  it('refuses an unknown status with 400 naming status', async () => {
    expect(
      assertError(await api.call('listIdentities', { status: 'locked,asleep' }), 400, 'status'),
    ).toContain('asleep');
    assertError(await api.call('countIdentities', { status: '' }), 400, 'status');
  });

  it.each([
    ['^[ab]', ['alpha', 'bravo']],
    ['a$', ['alpha', 'delta']],
    ['HARL', []],
    ['(?i)HARL', ['charlie']],
    ['', ['alpha', 'bravo', 'charlie', 'delta', 'echo']],
  ])('filters by the identity regular expression %j', async (identity, expected) => {
    expect(await matching({ identity })).toEqual(expected);
  });

  it('refuses an invalid regular expression with 400 naming identity', async () => {
    assertError(await api.call('listIdentities', { identity: '[a-' }), 400, 'identity');
    assertError(await api.call('countIdentities', { identity: '*a' }), 400, 'identity');
  });

  it('runs a catastrophic-backtracking pattern in linear time', async () => {
    await api.ok('addIdentity', { identity: `${'a'.repeat(100)}!` });
    const started = performance.now();
    expect(await matching({ identity: '^(a+)+$' })).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('filters by the exact last IP address', async () => {
    expect(await matching({ ipaddress: '10.0.0.1' })).toEqual(['alpha', 'charlie']);
    expect(await matching({ ipaddress: '10.0.0' })).toEqual([]);
  });

  it('filters by lastseen strictly before and after, leaving never-seen identities out', async () => {
    expect(await matching({ before: T0 - 2 * HOUR })).toEqual(['alpha']);
    expect(await matching({ after: T0 - 2 * HOUR })).toEqual(['charlie', 'echo']);
    expect(await matching({ after: T0 - 3 * HOUR, before: T0 })).toEqual(['bravo', 'charlie']);
  });

  it('filters by tag name, and by tag name and value', async () => {
    expect(await matching({ tag: 'device-type' })).toEqual(['alpha', 'bravo', 'charlie']);
    expect(await matching({ tag: 'site', 'tag.value': 'north' })).toEqual(['alpha', 'charlie', 'echo']);
    expect(await matching({ 'tag.name': 'site', 'tag.value': 'east' })).toEqual(['echo']);
    expect(await matching({ tag: 'nope' })).toEqual([]);
  });

  it('refuses tag.value without a tag name with 400 naming tag.value', async () => {
    assertError(await api.call('listIdentities', { 'tag.value': 'north' }), 400, 'tag.value');
  });

  it.each([
    [
      'the reference example (gte, lte and eq ANDed)',
      criteria(
        ['installed', 'gte', '20010101'],
        ['installed', 'lte', '20030101'],
        ['device-type', 'eq', 'camera'],
      ),
      ['alpha'],
    ],
    ['gt', criteria(['installed', 'gt', '20010101']), ['alpha', 'bravo']],
    ['lt', criteria(['installed', 'lt', '20020101']), ['charlie']],
    [
      'gte and lte as an inclusive range',
      criteria(['installed', 'gte', '20020101'], ['installed', 'lte', '20050101']),
      ['alpha', 'bravo'],
    ],
    ['ne, among identities carrying the tag', criteria(['device-type', 'ne', 'camera']), ['charlie']],
    ['eq on one of several values', criteria(['site', 'eq', 'east']), ['echo']],
    [
      'ne on a tag with several values (any value may satisfy it)',
      criteria(['site', 'ne', 'north']),
      ['bravo', 'echo'],
    ],
    ['string, not numeric, comparison', criteria(['installed', 'gt', '3']), []],
    [
      'a single criterion object',
      JSON.stringify({ name: 'site', operator: 'eq', value: 'south' }),
      ['bravo'],
    ],
    ['an empty criteria array', '[]', ['alpha', 'bravo', 'charlie', 'delta', 'echo']],
  ])('filters by the tags criteria: %s', async (_case, tags, expected) => {
    expect(await matching({ tags })).toEqual(expected);
  });

  it.each([
    ['not JSON', 'site=north', 'tags'],
    ['an unknown operator', criteria(['site', 'like', 'n%']), 'tags[0].operator'],
    ['a criterion without name', JSON.stringify([{ operator: 'eq', value: 'x' }]), 'tags[0].name'],
    ['a criterion without value', JSON.stringify([{ name: 'site', operator: 'eq' }]), 'tags[0].value'],
  ])('refuses tags criteria that are %s with 400 naming the criterion', async (_case, tags, parameter) => {
    assertError(await api.call('listIdentities', { tags }), 400, parameter);
    assertError(await api.call('countIdentities', { tags }), 400, parameter);
  });

  it('refuses tags together with tag or tag.value, as the reference says', async () => {
    const tags = criteria(['site', 'eq', 'north']);
    assertError(await api.call('listIdentities', { tags, tag: 'site' }), 400, 'tags');
  });

  it('ANDs different filters', async () => {
    expect(await matching({ status: 'online', tag: 'site', 'tag.value': 'north' })).toEqual([
      'alpha',
      'charlie',
    ]);
    expect(await matching({ identity: '^[a-c]', ipaddress: '10.0.0.1', before: T0 - 2 * HOUR })).toEqual([
      'alpha',
    ]);
    const tags = criteria(['site', 'eq', 'north']);
    expect(await matching({ tags, status: 'offline', after: T0 - HOUR })).toEqual(['echo']);
  });

  it('accepts and ignores the version filter, which the reference leaves unimplemented', async () => {
    expect(await matching({ version: '1.2.3' })).toHaveLength(5);
  });

  it('counts every identity and answers with a count object', async () => {
    expect((await api.call('countIdentities', {})).body).toEqual({ count: 5 });
    expect((await api.call('countIdentities')).body).toEqual({ count: 5 });
  });

  it('refuses list-only parameters in countIdentities with 400 naming them', async () => {
    assertError(await api.call('countIdentities', { limit: 5 }), 400, 'limit');
    assertError(await api.call('countIdentities', { order: 'identity' }), 400, 'order');
  });
});
