import type { ResourceStore } from './ports.js';
import type { ResourceDefinition } from './schemas/resource.js';

/**
 * Every device publish checks its values against the resource definitions, so the definitions are
 * kept in memory: a ResourceStore whose list is cached and dropped on every change made through it.
 * Changes made by another process (a cluster) need the cache dropped by that process's bus message.
 */
export class ResourceCatalog implements ResourceStore {
  private cached: Promise<Record<string, ResourceDefinition>> | undefined;
  /** The definitions `cached` resolved to, while it is the current list. */
  private loaded: Record<string, ResourceDefinition> | undefined;

  constructor(private readonly store: ResourceStore) {}

  list(): Promise<Record<string, ResourceDefinition>> {
    if (!this.cached) {
      const pending = this.store.list().then(
        (definitions) => {
          if (this.cached === pending) this.loaded = definitions;
          return definitions;
        },
        (error: unknown) => {
          if (this.cached === pending) this.cached = undefined;
          throw error;
        },
      );
      this.cached = pending;
    }
    return this.cached;
  }

  /**
   * The definitions when they are in memory, without waiting for a promise: device publishes
   * call this per message and fall back to `list()` after a change.
   */
  current(): Record<string, ResourceDefinition> | undefined {
    return this.loaded;
  }

  invalidate(): void {
    this.cached = undefined;
    this.loaded = undefined;
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
