import { describe, expect, it } from 'vitest';
import type { ResourceStore } from './ports.js';
import { ResourceCatalog } from './resource-catalog.js';
import type { ResourceDefinition } from './schemas/resource.js';

/** A ResourceStore in a Map: enough for the catalog, which only passes calls through. */
function mapStore(): ResourceStore {
  const definitions = new Map<string, ResourceDefinition>();
  return {
    async add(alias, definition) {
      definitions.set(alias, definition);
    },
    get: async (alias) => definitions.get(alias),
    list: async () => Object.fromEntries(definitions),
    async update(alias, revise) {
      const current = definitions.get(alias);
      if (!current) return false;
      definitions.set(alias, revise(current).definition);
      return true;
    },
    remove: async (alias) => definitions.delete(alias),
  };
}

const temp = { format: 'number', sync: true, settable: false, retention: '12' } as const;

describe('the resource catalog', () => {
  it('has the definitions at hand once listed, and forgets them at every change made through it', async () => {
    const catalog = new ResourceCatalog(mapStore());
    expect(catalog.current()).toBeUndefined();
    await catalog.add('temp', temp);
    expect(catalog.current()).toBeUndefined();
    expect(Object.keys(await catalog.list())).toEqual(['temp']);
    expect(Object.keys(catalog.current() ?? {})).toEqual(['temp']);
    await catalog.add('humidity', temp);
    expect(catalog.current()).toBeUndefined();
    expect(Object.keys(await catalog.list()).sort()).toEqual(['humidity', 'temp']);
    await catalog.remove('temp');
    expect(catalog.current()).toBeUndefined();
  });

  it('does not keep a list that was read before a change it raced with', async () => {
    const catalog = new ResourceCatalog(mapStore());
    const stale = catalog.list();
    catalog.invalidate();
    await stale;
    expect(catalog.current()).toBeUndefined();
  });
});
