import type { ResourceValue } from './schemas/common.js';

/** A set value on its way to a device: `timestamp` (µs) is when it was set. */
export interface SetValue {
  alias: string;
  value: ResourceValue;
  timestamp: number;
}

/** An edge's live connection to one device. */
export interface DeviceLink {
  /** Pushes set values to the device (MQTT: PUBLISH $resource/<alias>/<µs>). */
  deliver(values: SetValue[]): void;
  /** Ends the connection: the identity was deleted, locked or its credentials revoked. */
  close(reason: string): void;
}

interface Waiter {
  resolve: (value: SetValue | undefined) => void;
}

/**
 * Identities whose last closeAll is remembered; beyond, the oldest is forgotten, and a connection
 * accepted before it is refused (it cannot be told whether its identity was among them).
 */
const MAX_CLOSE_MARKS = 10_000;

const waiterKey = (identity: string, alias: string) => `${identity}\u0000${alias}`;

/**
 * The devices connected to this process and the HTTP long-polls waiting on a set value. Set values
 * are pushed from here the moment setIdentityState stores them.
 */
export class DeviceConnections {
  /** A device's one link, or a set of them when it has several connections (rare: no set each). */
  private readonly links = new Map<string, DeviceLink | Set<DeviceLink>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Per identity, the aliases it has long-polls waiting on. */
  private readonly polledAliases = new Map<string, Set<string>>();
  private total = 0;
  /** How many times closeAll ran, and per identity the count at its last one, oldest first. */
  private closes = 0;
  private readonly closedAt = new Map<string, number>();
  /** The count of the last close closedAt forgot: a mark older than it cannot be checked. */
  private forgottenBefore = 0;

  /**
   * Taken before a connection is authenticated, and given to `add` once it is ready: a closeAll
   * of its identity in between (the identity was locked, removed or its credentials changed while
   * the connection was being accepted) then refuses it, where it would otherwise stay open.
   */
  mark(): number {
    return this.closes;
  }

  /** Whether the identity's connections were closed since `mark` (or it cannot be told). */
  closedSince(identity: string, mark: number | undefined): boolean {
    return mark !== undefined && (mark < this.forgottenBefore || (this.closedAt.get(identity) ?? 0) > mark);
  }

  /** False, and nothing added, when the identity's connections were closed since `mark`. */
  add(identity: string, link: DeviceLink, mark?: number): boolean {
    if (this.closedSince(identity, mark)) return false;
    const held = this.links.get(identity);
    if (held === link || (held instanceof Set && held.has(link))) return true;
    this.total++;
    if (held === undefined) this.links.set(identity, link);
    else if (held instanceof Set) held.add(link);
    else this.links.set(identity, new Set([held, link]));
    return true;
  }

  has(identity: string, link: DeviceLink): boolean {
    const held = this.links.get(identity);
    return held === link || (held instanceof Set && held.has(link));
  }

  /** Returns true when this was the identity's last connection. */
  remove(identity: string, link: DeviceLink): boolean {
    const held = this.links.get(identity);
    if (held === link) {
      this.links.delete(identity);
      this.total--;
      return true;
    }
    if (!(held instanceof Set) || !held.delete(link)) return false;
    this.total--;
    if (held.size > 0) return false;
    this.links.delete(identity);
    return true;
  }

  private linksOf(identity: string): Iterable<DeviceLink> {
    const held = this.links.get(identity);
    return held === undefined ? [] : held instanceof Set ? held : [held];
  }

  /** Devices (identities) with at least one connection open, for the `connected` device metric. */
  connectedDevices(): number {
    return this.links.size;
  }

  /** Connections open right now. */
  count(): number {
    return this.total;
  }

  setValuesChanged(identity: string, values: SetValue[]): void {
    for (const link of this.linksOf(identity)) link.deliver(values);
    for (const value of values) {
      const key = waiterKey(identity, value.alias);
      const waiting = this.waiters.get(key);
      // Each waiter leaves the map as it is answered.
      if (waiting) for (const waiter of [...waiting]) waiter.resolve(value);
    }
  }

  /** Identities with a connection open or a long-poll waiting: those a new set value can reach now. */
  watched(): Set<string> {
    const identities = new Set(this.links.keys());
    for (const key of this.waiters.keys()) identities.add(key.slice(0, key.indexOf('\u0000')));
    return identities;
  }

  closeAll(identity: string, reason: string): void {
    // Only connections accepted in the last moments need this: the oldest entries go first.
    this.closedAt.delete(identity);
    this.closedAt.set(identity, ++this.closes);
    if (this.closedAt.size > MAX_CLOSE_MARKS) {
      const [oldest, count] = this.closedAt.entries().next().value as [string, number];
      this.closedAt.delete(oldest);
      this.forgottenBefore = count;
    }
    for (const link of [...this.linksOf(identity)]) link.close(reason);
    // Its long-polls end too (with no value): the next request meets the lock or the new key.
    for (const alias of [...(this.polledAliases.get(identity) ?? [])])
      for (const waiter of [...(this.waiters.get(waiterKey(identity, alias)) ?? [])])
        waiter.resolve(undefined);
  }

  /** Resolves with the next set value of `alias`, or undefined after `timeoutMs` or on abort. */
  waitForSet(
    identity: string,
    alias: string,
    timeoutMs: number,
    signal?: AbortSignal,
    /** `mark()` taken before the request was authenticated: a close since then ends it at once. */
    mark?: number,
  ): Promise<SetValue | undefined> {
    if (this.closedSince(identity, mark)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const key = waiterKey(identity, alias);
      let set = this.waiters.get(key);
      if (!set) {
        this.waiters.set(key, (set = new Set()));
        let aliases = this.polledAliases.get(identity);
        if (!aliases) this.polledAliases.set(identity, (aliases = new Set()));
        aliases.add(alias);
      }
      const waiting = set;
      const finish = (value: SetValue | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiting.delete(waiter);
        if (waiting.size === 0 && this.waiters.get(key) === waiting) {
          this.waiters.delete(key);
          const aliases = this.polledAliases.get(identity);
          aliases?.delete(alias);
          if (aliases?.size === 0) this.polledAliases.delete(identity);
        }
        resolve(value);
      };
      const waiter: Waiter = { resolve: finish };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      waiting.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) finish(undefined);
    });
  }
}
