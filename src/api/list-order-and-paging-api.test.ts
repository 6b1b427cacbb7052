import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, HOUR, SECOND, seedFleet, startTestApi, T0, type TestApi } from './test-api.js';
import { newIdentity } from '../storage/contract-fixtures.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.close();
});

async function names(params: Record<string, unknown>): Promise<string[]> {
  const reply = await api.call('listIdentities', params);
  expect(reply.status, reply.text).toBe(200);
  return (reply.body as { devices: { identity: string }[] }).devices.map((d) => d.identity);
}

describe('listIdentities order', () => {
  beforeEach(async () => {
    await seedFleet(api);
  });

  it('lists by lastseen, newest first, unless told otherwise; never-seen identities come last', async () => {
    expect(await names({})).toEqual(['echo', 'charlie', 'bravo', 'alpha', 'delta']);
  });

  it.each([
    ['identity', ['alpha', 'bravo', 'charlie', 'delta', 'echo']],
    ['identity.asc', ['alpha', 'bravo', 'charlie', 'delta', 'echo']],
    ['identity.desc', ['echo', 'delta', 'charlie', 'bravo', 'alpha']],
    ['lastseen', ['delta', 'alpha', 'bravo', 'charlie', 'echo']],
    ['lastseen.desc', ['echo', 'charlie', 'bravo', 'alpha', 'delta']],
    ['state.temp', ['delta', 'echo', 'bravo', 'alpha', 'charlie']],
    ['state.temp.desc', ['charlie', 'alpha', 'bravo', 'echo', 'delta']],
  ])('orders by %s', async (order, expected) => {
    expect(await names({ order })).toEqual(expected);
  });

  it('orders by lastip, ties in the order the identities were added', async () => {
    expect(await names({ order: 'lastip' })).toEqual(['delta', 'alpha', 'charlie', 'bravo', 'echo']);
    expect(await names({ order: 'lastip.desc' })).toEqual(['echo', 'bravo', 'charlie', 'alpha', 'delta']);
  });

  it('orders by several keys given as an array', async () => {
    expect(await names({ order: ['lastip.desc', 'identity.desc'] })).toEqual([
      'echo',
      'bravo',
      'charlie',
      'alpha',
      'delta',
    ]);
  });

  it('orders by a resource state numerically, not as text', async () => {
    await api.ok('setIdentityState', { identity: 'echo', temp: 100 });
    expect(await names({ order: 'state.temp.desc', status: 'provisioned,reprovision,locked' })).toEqual([
      'echo',
      'charlie',
      'alpha',
    ]);
  });

  it.each([
    ['name'],
    ['lastseen.up'],
    ['state.'],
    ['state.a.b'],
    ['identity.desc.asc'],
    [['identity', 'nope']],
    [[]],
  ])('refuses the order %j with 400 naming order', async (order) => {
    assertError(await api.call('listIdentities', { order }), 400, 'order');
  });
});

describe('listIdentities paging', () => {
  /** `count` identities n000…, seen one second apart, n000 the oldest. */
  async function addSeen(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const identity = `n${String(i).padStart(3, '0')}`;
      await api.ok('addIdentity', { identity });
      await api.store.identities.markSeen(identity, { at: T0 + i * SECOND });
    }
  }

  it('returns 50 identities by default and says more may be loaded', async () => {
    await addSeen(60);
    const { devices, mayLoadMore } = await api.ok('listIdentities', {});
    expect(devices).toHaveLength(50);
    expect(devices[0]?.identity).toBe('n059');
    expect(mayLoadMore).toBe(true);
  });

  it('pages with limit and offset, mayLoadMore turning false on the last page', async () => {
    await addSeen(7);
    const page = (offset: number) => api.ok('listIdentities', { limit: 3, offset, order: 'identity' });
    const first = await page(0);
    expect([first.devices.map((d) => d.identity), first.mayLoadMore]).toEqual([
      ['n000', 'n001', 'n002'],
      true,
    ]);
    const second = await page(3);
    expect([second.devices.map((d) => d.identity), second.mayLoadMore]).toEqual([
      ['n003', 'n004', 'n005'],
      true,
    ]);
    const last = await page(6);
    expect([last.devices.map((d) => d.identity), last.mayLoadMore]).toEqual([['n006'], false]);
    expect(await page(9)).toEqual({ devices: [], mayLoadMore: false });
  });

  it('says no more may be loaded when exactly limit identities match', async () => {
    await addSeen(4);
    expect((await api.ok('listIdentities', { limit: 4 })).mayLoadMore).toBe(false);
  });

  it('pages by lastseen with before, as the reference suggests', async () => {
    await addSeen(5);
    const first = await api.ok('listIdentities', { limit: 2 });
    expect(first.devices.map((d) => d.identity)).toEqual(['n004', 'n003']);
    const next = await api.ok('listIdentities', { limit: 2, before: first.devices[1]!.lastseen! });
    expect(next.devices.map((d) => d.identity)).toEqual(['n002', 'n001']);
  });

  it('skips identities sharing a lastseen with offset, in a stable order', async () => {
    for (const identity of ['s1', 's2', 's3']) {
      await api.ok('addIdentity', { identity });
      await api.store.identities.markSeen(identity, { at: T0 });
    }
    const all = await names({});
    expect([...(await names({ limit: 2 })), ...(await names({ limit: 2, offset: 2 }))]).toEqual(all);
  });

  it('returns up to 2000 identities at once', async () => {
    for (let i = 0; i < 2001; i++) {
      await api.store.identities.insert(newIdentity(`bulk-${i}`));
    }
    const { devices, mayLoadMore } = await api.ok('listIdentities', { limit: 2000 });
    expect(devices).toHaveLength(2000);
    expect(mayLoadMore).toBe(true);
  }, 20_000);

  it.each([
    [{ limit: 2001 }, 'limit'],
    [{ limit: 0 }, 'limit'],
    [{ limit: 1.5 }, 'limit'],
    [{ limit: '10' }, 'limit'],
    [{ offset: -1 }, 'offset'],
    [{ offset: 'x' }, 'offset'],
    [{ before: '2020-01-01' }, 'before'],
    [{ after: null }, 'after'],
  ])('refuses %j with 400 naming %s', async (params, parameter) => {
    assertError(await api.call('listIdentities', params), 400, parameter);
  });

  it('reports lastseen in µs and lastip as recorded', async () => {
    await api.ok('addIdentity', { identity: 'dev' });
    await api.store.identities.markSeen('dev', { at: T0 + HOUR, ip: '192.0.2.7', online: true });
    expect((await api.ok('listIdentities', {})).devices[0]).toMatchObject({
      lastseen: T0 + HOUR,
      lastip: '192.0.2.7',
      online: true,
    });
  });
});
