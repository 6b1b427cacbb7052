import type { ResourceStore } from './ports.js';
import type { ResourceDefinition } from './schemas/resource.js';

/**
 * Every device publish checks its values against the resource definitions, so the definitions are
 * kept in memory: a ResourceStore whose list is cached and dropped on every change made through it.
 * Changes made by another process (a cluster) need the cache dropped by that process's bus message.
 */
export class ResourceCatalog implements ResourceStore {
  private cached: Promise<Record<string, ResourceDefinition>> | undefined;

  constructor(private readonly store: ResourceStore) {}

  list(): Promise<Record<string, ResourceDefinition>> {
    this.cached ??= this.store.list().catch((error: unknown) => {
      this.cached = undefined;
      throw error;
    });
    return this.cached;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  get(alias: string): Promise<ResourceDefinition | undefined> {
    return this.store.get(alias);
  }

  async add(...args: Parameters<ResourceStore['add']>): Promise<void> {
    try {
      await this.store.add(...args);
    } finally {
      this.invalidate();
    }
  }

  async update(...args: Parameters<ResourceStore['update']>): Promise<boolean> {
    try {
      return await this.store.update(...args);
    } finally {
      this.invalidate();
    }
  }

  async remove(alias: string): Promise<boolean> {
    try {
      return await this.store.remove(alias);
    } finally {
      this.invalidate();
    }
  }
}
