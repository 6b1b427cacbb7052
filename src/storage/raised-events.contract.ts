import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../core/events.js';
import type { Store } from '../core/ports.js';
import { newIdentity, NOW } from './contract-fixtures.js';

const event = (type: 'deleted' | 'provisioned', identity: string): GatewayEvent => ({
  type,
  identity,
  ip: null,
  protocol: 'api',
  timestamp: NOW,
  connection_id: null,
});

/**
 * Events stored with the change that raised them, until forgotten (see store.contract.ts): an
 * adapter writes them in the change's transaction, so a change and its event are stored together
 * or not at all.
 */
export function describeRaisedEventsContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} store contract: events raised by identity changes`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores the event of each change that happens, in order, and none of a change refused', async () => {
      await store.identities.insert(newIdentity('a'), event('provisioned', 'a'));
      await expect(
        store.identities.insert(newIdentity('a'), event('provisioned', 'again')),
      ).rejects.toThrow();
      await store.identities.insert(newIdentity('b', { credential: null }));
      expect(
        await store.identities.remove(['a', 'ghost'], [event('deleted', 'a'), event('deleted', 'ghost')]),
      ).toEqual(['ghost']);
      expect(
        await store.devices.provision(
          'b',
          null,
          { authType: 'token', credential: 'sha256:t' },
          event('provisioned', 'b'),
        ),
      ).toBe(true);
      expect(
        await store.devices.provision(
          'b',
          null,
          { authType: 'token', credential: 'sha256:u' },
          event('provisioned', 'late'),
        ),
      ).toBe(false);
      expect(await store.identities.remove(['a'], [event('deleted', 'a')])).toEqual([]);
      expect((await store.identities.unforgottenEvents()).map((e) => `${e.type}:${e.identity}`)).toEqual([
        'provisioned:a',
        'provisioned:b',
        'deleted:a',
      ]);
      expect(await store.identities.unforgottenEvents()).toContainEqual(event('deleted', 'a'));
    });

    it('forgets the events passed to a change, and those it listed, and only those', async () => {
      const deleted = event('deleted', 'a');
      await store.identities.insert(newIdentity('a'));
      await store.identities.insert(newIdentity('b'));
      await store.identities.remove(['a'], [deleted]);
      await store.identities.remove(['b'], [event('deleted', 'b')]);
      await store.identities.forgetEvents([deleted]);
      const listed = await store.identities.unforgottenEvents();
      expect(listed.map((e) => e.identity)).toEqual(['b']);
      // An equal object that was neither passed nor listed names nothing.
      await store.identities.forgetEvents([event('deleted', 'b')]);
      expect(await store.identities.unforgottenEvents()).toHaveLength(1);
      await store.identities.forgetEvents(listed);
      expect(await store.identities.unforgottenEvents()).toEqual([]);
    });
  });
}
