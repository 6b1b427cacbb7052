import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../core/ports.js';
import { defaultSettings } from '../core/schemas/settings.js';
import { newIdentity, NOW, numberResource, rejection } from './contract-fixtures.js';

/** The resource and settings ports' part of the storage contract (see store.contract.ts). */
export function describeResourceAndSettingsContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} store contract: resources and settings`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('defines resources once, initializes state, and removes their state with them', async () => {
      await store.identities.insert(newIdentity('a'));
      await store.resources.add('temp', numberResource);
      expect((await rejection(store.resources.add('temp', numberResource))).code).toBe('ALREADY_EXISTS');
      await store.resources.add(
        'mode',
        { ...numberResource, format: 'string', initial: 'auto' },
        { resource: 'mode', set: 'auto', timestamp: NOW },
      );
      expect(await store.identities.get('a')).toMatchObject({
        state: { mode: { set: 'auto', timestamp: NOW } },
      });
      expect(await store.resources.get('temp')).toEqual(numberResource);
      expect(await store.resources.get('none')).toBeUndefined();
      expect(Object.keys(await store.resources.list())).toEqual(['mode', 'temp']);
      expect(
        await store.resources.update('temp', (current) => ({ definition: { ...current, unit: 'C' } })),
      ).toBe(true);
      expect(await store.resources.update('none', () => ({ definition: numberResource }))).toBe(false);
      expect((await store.resources.get('temp'))?.unit).toBe('C');
      expect(await store.resources.remove('mode')).toBe(true);
      expect(await store.resources.remove('mode')).toBe(false);
      expect((await store.identities.get('a'))?.state).toEqual({});
    });

    it('gives a new initial value on update only to identities without a state entry', async () => {
      await store.identities.insert(newIdentity('fresh'));
      await store.identities.insert(newIdentity('reported'));
      await store.resources.add('temp', numberResource);
      await store.identities.writeState('reported', [{ resource: 'temp', reported: 21, timestamp: NOW }]);
      const initial = { resource: 'temp', set: 18, timestamp: NOW + 1 };
      expect(
        await store.resources.update('temp', () => ({
          definition: { ...numberResource, initial: 18 },
          initial,
        })),
      ).toBe(true);
      expect((await store.identities.get('fresh'))?.state).toEqual({ temp: { set: 18, timestamp: NOW + 1 } });
      expect((await store.identities.get('reported'))?.state).toEqual({
        temp: { reported: 21, timestamp: NOW },
      });
      expect(await store.resources.update('none', () => ({ definition: numberResource, initial }))).toBe(
        false,
      );
    });

    it('gives a new identity the initial values defined when it is written, of every format', async () => {
      await store.resources.add('mode', { ...numberResource, format: 'string', initial: 'auto' });
      await store.resources.add('level', { ...numberResource, initial: 2.5 });
      await store.resources.add('on', { ...numberResource, format: 'boolean', initial: false });
      await store.resources.add('plain', numberResource);
      const adding = store.identities.insert(newIdentity('a', { createdAt: NOW + 5 }));
      // Removed after the insert was asked for but, with group commit, before it ran.
      await store.resources.remove('level');
      await adding;
      expect((await store.identities.get('a'))?.state).toEqual({
        mode: { set: 'auto', timestamp: NOW + 5 },
        on: { set: false, timestamp: NOW + 5 },
      });
    });

    it('leaves a definition as it was when the revision throws', async () => {
      await store.resources.add('temp', numberResource);
      const refused = store.resources.update('temp', () => {
        throw new Error('refused');
      });
      await expect(refused).rejects.toThrow('refused');
      expect(await store.resources.get('temp')).toEqual(numberResource);
    });

    it('keeps the gateway settings document', async () => {
      expect(await store.settings.get()).toBeUndefined();
      const settings = { ...defaultSettings(), fqdn: 'gw.example.com' };
      expect(await store.settings.update(() => settings)).toEqual(settings);
      await store.settings.update((current) => ({ ...current!, enable_signal_parser: true }));
      await expect(
        store.settings.update(() => {
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect(await store.settings.get()).toEqual({ ...settings, enable_signal_parser: true });
    });
  });
}
