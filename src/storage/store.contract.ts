import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deriveStatus } from '../core/identity-status.js';
import type { IdentityQuery, NewIdentity, OrderKey, Store } from '../core/ports.js';
import { HOUR, newIdentity, NOW, rejection } from './contract-fixtures.js';
import { describeDeviceMetricsContract } from './device-metrics.contract.js';
import { describeResourceAndSettingsContract } from './resource-settings.contract.js';
import { describeWebhookStoreContract } from './webhook-store.contract.js';
import { describeHandlerQueueContract } from './handler-queue.contract.js';
import { describeRaisedEventsContract } from './raised-events.contract.js';

/**
 * The executable specification of the storage ports. Every adapter runs it with one line;
 * `makeStore` returns a fresh, empty store.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    const q = (query: Partial<IdentityQuery> = {}): IdentityQuery => ({ now: NOW, ...query });
    const names = async (
      query: Partial<IdentityQuery> = {},
      order: OrderKey[] = [{ field: 'identity', descending: false }],
    ) => (await store.identities.list(q(query), order, 100, 0)).map((r) => r.identity);

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores an identity and reads it back with defaults', async () => {
      await store.identities.insert(
        newIdentity('dev-1', { credential: 'sha256:x', authExpire: NOW + HOUR, locked: true }),
      );
      const record = await store.identities.get('dev-1');
      expect(record).toEqual({
        identity: 'dev-1',
        authType: 'token',
        credential: 'sha256:x',
        authExpire: NOW + HOUR,
        locked: true,
        online: false,
        lastseen: null,
        lastip: null,
        permission: {},
        tags: [],
        state: {},
      });
      expect(await store.identities.get('dev-2')).toBeUndefined();
    });

    it('refuses a second identity with the same name or the same token', async () => {
      await store.identities.insert(newIdentity('a', { credential: 'sha256:t' }));
      expect((await rejection(store.identities.insert(newIdentity('a')))).parameter).toBe('identity');
      expect(
        (await rejection(store.identities.insert(newIdentity('b', { credential: 'sha256:t' })))).parameter,
      ).toBe('auth.key');
      // Passwords are not looked up by value, so two identities may share one.
      await store.identities.insert(newIdentity('c', { authType: 'password', credential: 'sha256:p' }));
      await store.identities.insert(newIdentity('d', { authType: 'password', credential: 'sha256:p' }));
      expect(await store.identities.count(q())).toBe(3);
    });

    it('filters by every lifecycle status exactly as deriveStatus says', async () => {
      const cases: NewIdentity[] = [
        newIdentity('whitelisted'),
        newIdentity('window-open', { authExpire: NOW + HOUR }),
        newIdentity('expired', { authExpire: NOW - 1 }),
        newIdentity('provisioned', { credential: 'sha256:1' }),
        newIdentity('reprovision', { credential: 'sha256:2', authExpire: NOW - 1 }),
        newIdentity('locked', { credential: 'sha256:3', locked: true }),
      ];
      for (const c of cases) await store.identities.insert(c);
      for (const status of ['locked', 'reprovision', 'provisioned', 'whitelisted', 'expired'] as const) {
        const expected = cases
          .filter((c) => deriveStatus(c, NOW) === status)
          .map((c) => c.identity)
          .sort();
        expect(await names({ statuses: [status] })).toEqual(expected);
        expect(await store.identities.count(q({ statuses: [status] }))).toBe(expected.length);
      }
      expect(await names({ statuses: ['locked', 'expired'] })).toEqual(['expired', 'locked']);
    });

    it('filters by online, lastip, lastseen window and a linear-time identity pattern', async () => {
      for (const id of ['alpha', 'beta', 'gamma']) await store.identities.insert(newIdentity(id));
      await store.identities.markSeen('alpha', { at: NOW - 2 * HOUR, ip: '10.0.0.1', online: true });
      await store.identities.markSeen('beta', { at: NOW - HOUR, ip: '10.0.0.2' });
      await store.identities.markSeen('nobody', { at: NOW });
      expect(await store.identities.get('nobody')).toBeUndefined();
      expect(await names({ online: true })).toEqual(['alpha']);
      expect(await names({ online: false })).toEqual(['beta', 'gamma']);
      expect(await names({ ipaddress: '10.0.0.2' })).toEqual(['beta']);
      expect(await names({ before: NOW - HOUR })).toEqual(['alpha']);
      expect(await names({ after: NOW - 2 * HOUR })).toEqual(['beta']);
      expect(await names({ identityPattern: '^(a|g)' })).toEqual(['alpha', 'gamma']);
      expect(await names({ identityPattern: '(a+)+$' })).toEqual(['alpha', 'beta', 'gamma']);
    });

    it('orders by lastseen with never-seen identities oldest, by lastip and by a state value', async () => {
      for (const id of ['a', 'b', 'c']) await store.identities.insert(newIdentity(id));
      await store.identities.markSeen('a', { at: NOW - HOUR, ip: '10.0.0.9' });
      await store.identities.markSeen('c', { at: NOW, ip: '10.0.0.1' });
      expect(await names({}, [{ field: 'lastseen', descending: true }])).toEqual(['c', 'a', 'b']);
      expect(await names({}, [{ field: 'lastseen', descending: false }])).toEqual(['b', 'a', 'c']);
      expect(await names({}, [{ field: 'lastip', descending: false }])).toEqual(['b', 'c', 'a']);
      await store.identities.writeState('a', [{ resource: 'temp', set: 5, reported: 30, timestamp: NOW }]);
      await store.identities.writeState('b', [{ resource: 'temp', set: 5, reported: 4, timestamp: NOW }]);
      expect(await names({}, [{ field: 'state', resource: 'temp', descending: true }])).toEqual([
        'a',
        'b',
        'c',
      ]);
    });

    it('pages with limit and offset without repeating or skipping', async () => {
      for (let i = 0; i < 7; i++) await store.identities.insert(newIdentity(`d${i}`));
      const order = [{ field: 'lastseen' as const, descending: true }];
      const pages = [0, 3, 6].map((offset) => store.identities.list(q(), order, 3, offset));
      const seen = (await Promise.all(pages)).flat().map((r) => r.identity);
      expect(new Set(seen).size).toBe(7);
    });

    it('keeps several values per tag name and filters by name, value and criteria', async () => {
      await store.identities.insert(newIdentity('cam-1'));
      await store.identities.insert(newIdentity('cam-2'));
      expect(
        await store.identities.addTags(
          'cam-1',
          [
            { name: 'type', value: 'camera' },
            { name: 'date', value: '20020101' },
          ],
          false,
        ),
      ).toBe(true);
      await store.identities.addTags(
        'cam-1',
        [
          { name: 'type', value: 'sensor' },
          { name: 'type', value: 'camera' },
        ],
        false,
      );
      await store.identities.addTags('cam-2', [{ name: 'date', value: '20050101' }], false);
      expect(await store.identities.addTags('ghost', [{ name: 'x', value: 'y' }], false)).toBe(false);
      expect(await store.identities.tagValues('cam-1', 'type')).toEqual(['camera', 'sensor']);
      expect(await store.identities.tagValues('cam-1', 'none')).toEqual([]);
      expect(await store.identities.tagValues('ghost', 'type')).toBeUndefined();
      expect(await store.identities.tagNames()).toEqual(['date', 'type']);
      expect(await names({ tagName: 'type' })).toEqual(['cam-1']);
      expect(await names({ tagName: 'date', tagValue: '20050101' })).toEqual(['cam-2']);
      const between = [
        { name: 'date', operator: 'gte' as const, value: '20010101' },
        { name: 'date', operator: 'lte' as const, value: '20030101' },
      ];
      expect(await names({ tagCriteria: between })).toEqual(['cam-1']);
      expect(await names({ tagCriteria: [{ name: 'date', operator: 'ne', value: '20020101' }] })).toEqual([
        'cam-2',
      ]);
      expect(await names({ tagCriteria: [{ name: 'date', operator: 'gt', value: '2003' }] })).toEqual([
        'cam-2',
      ]);

      await store.identities.addTags('cam-1', [{ name: 'type', value: 'gateway' }], true);
      expect(await store.identities.tagValues('cam-1', 'type')).toEqual(['gateway']);
      await store.identities.addTags(
        'cam-1',
        [
          { name: 'type', value: 'a' },
          { name: 'type', value: 'b' },
        ],
        false,
      );
      await store.identities.removeTag('cam-1', 'type', ['a', 'gateway']);
      expect(await store.identities.tagValues('cam-1', 'type')).toEqual(['b']);
      await store.identities.removeTag('cam-1', 'type');
      expect(await store.identities.tagValues('cam-1', 'type')).toEqual([]);
      expect(await store.identities.removeTag('ghost', 'type')).toBe(false);
    });

    it('updates auth and locked fields and reports unknown identities', async () => {
      await store.identities.insert(newIdentity('a', { credential: 'sha256:old' }));
      await store.identities.insert(newIdentity('b', { credential: 'sha256:taken' }));
      expect(
        await store.identities.update('a', { locked: true, authExpire: 5, credential: 'sha256:new' }),
      ).toBe(true);
      expect(await store.identities.get('a')).toMatchObject({
        locked: true,
        authExpire: 5,
        credential: 'sha256:new',
      });
      expect(
        await store.identities.update('a', { credential: null, authExpire: null, authType: 'password' }),
      ).toBe(true);
      expect(await store.identities.get('a')).toMatchObject({
        credential: null,
        authExpire: null,
        authType: 'password',
      });
      expect(await store.identities.update('ghost', { locked: true })).toBe(false);
      expect(await store.identities.update('ghost', {})).toBe(false);
      await store.identities.update('a', { authType: 'token' });
      expect((await rejection(store.identities.update('a', { credential: 'sha256:taken' }))).parameter).toBe(
        'auth.key',
      );
    });

    it('removes all of a list or none of it, with tags and state', async () => {
      await store.identities.insert(newIdentity('a'));
      await store.identities.insert(newIdentity('b'));
      await store.identities.addTags('a', [{ name: 'n', value: 'v' }], false);
      await store.identities.writeState('a', [{ resource: 'r', set: 1, timestamp: NOW }]);
      expect(await store.identities.remove(['a', 'ghost'])).toEqual(['ghost']);
      expect(await store.identities.existing(['a', 'b', 'ghost'])).toEqual(new Set(['a', 'b']));
      expect(await store.identities.remove(['a', 'b'])).toEqual([]);
      expect(await store.identities.count(q())).toBe(0);
      expect(await store.identities.tagNames()).toEqual([]);
      await store.identities.insert(newIdentity('a'));
      expect((await store.identities.get('a'))?.state).toEqual({});
    });

    it('writes set and reported values separately, keeping the type of each value', async () => {
      await store.identities.insert(newIdentity('a'));
      await store.identities.writeState('a', [{ resource: 'mode', set: 'auto', timestamp: NOW }]);
      await store.identities.writeState('a', [{ resource: 'temp', set: 20, timestamp: NOW }]);
      await store.identities.writeState('a', [{ resource: 'temp', reported: 21.5, timestamp: NOW + 1 }]);
      await store.identities.writeState('a', [
        { resource: 'on', set: false, reported: false, timestamp: NOW + 2 },
      ]);
      expect((await store.identities.get('a'))?.state).toEqual({
        mode: { set: 'auto', timestamp: NOW },
        temp: { set: 20, reported: 21.5, timestamp: NOW + 1 },
        on: { set: false, reported: false, timestamp: NOW + 2 },
      });
      expect(await store.identities.writeState('ghost', [{ resource: 'temp', set: 1, timestamp: NOW }])).toBe(
        false,
      );
    });

    it('applies one bulk change to every matching identity and to no other', async () => {
      for (const id of ['m1', 'm2', 'other']) await store.identities.insert(newIdentity(id));
      for (const id of ['m1', 'm2'])
        await store.identities.addTags(
          id,
          [
            { name: 'group', value: 'g' },
            { name: 'old', value: 'x' },
          ],
          false,
        );
      const matched = await store.identities.updateMatching(q({ tagName: 'group', tagValue: 'g' }), {
        addTags: [{ name: 'fw', value: '2' }],
        removeTags: [{ name: 'old' }, { name: 'group', value: 'g' }],
        state: [{ resource: 'temp', set: 7, timestamp: NOW }],
      });
      expect(matched).toBe(2);
      for (const id of ['m1', 'm2']) {
        expect(await store.identities.get(id)).toMatchObject({
          tags: [{ name: 'fw', value: '2' }],
          state: { temp: { set: 7 } },
        });
      }
      expect(await store.identities.get('other')).toMatchObject({ tags: [], state: {} });
    });

    it('replaces only the permission entities it is given, in one step', async () => {
      await store.identities.insert(newIdentity('gw'));
      const grant = { publish_as: { identities: ['a', 'b'] } };
      expect(await store.identities.updatePermission('gw', grant)).toBe(true);
      await store.identities.updatePermission('gw', { subscript: { identities: ['*'] } });
      await store.identities.updatePermission('gw', { publish_as: { identities: ['c'] } });
      expect((await store.identities.get('gw'))?.permission).toEqual({
        publish_as: { identities: ['c'] },
        subscript: { identities: ['*'] },
      });
      expect(await store.identities.updatePermission('ghost', {})).toBe(false);
    });
  });

  describeResourceAndSettingsContract(name, makeStore);
  describeDeviceMetricsContract(name, makeStore);
  describeWebhookStoreContract(name, makeStore);
  describeHandlerQueueContract(name, makeStore);
  describeRaisedEventsContract(name, makeStore);
}
