import type { Clock } from './clock.js';
import type { DeviceCredentialRecord, DeviceIdentityStore } from './device-ports.js';

/** How long a looked-up credential is trusted without asking the store again (µs). */
const TTL_MICROS = 5_000_000;
const MAX_ENTRIES = 200_000;

interface Entry {
  record: DeviceCredentialRecord;
  until: number;
}

/**
 * HTTP devices authenticate on every request, so the credentials they present are kept in memory
 * for a few seconds. Changes made through this process (provisioning, updateIdentity, removal)
 * drop the entry at once; the TTL bounds how long a change made elsewhere (another node of a
 * cluster) goes unseen.
 */
export class CredentialCache implements DeviceIdentityStore {
  private readonly byToken = new Map<string, Entry>();
  private readonly byName = new Map<string, Entry>();
  /** identity → the token hash it is cached under, to forget it by identity. */
  private readonly tokenOf = new Map<string, string>();

  constructor(
    private readonly store: DeviceIdentityStore,
    private readonly clock: Clock,
  ) {}

  async byIdentity(identity: string): Promise<DeviceCredentialRecord | undefined> {
    const now = this.clock.nowMicros();
    const hit = this.byName.get(identity);
    if (hit && hit.until > now) return hit.record;
    const record = await this.store.byIdentity(identity);
    if (record) this.remember(record, now);
    else this.byName.delete(identity);
    return record;
  }

  /**
   * `keep: false` for a device that authenticates once per connection (MQTT): it is answered from
   * the cache when there, but what the store answers is not kept, to hold no record per connected
   * device that nobody asks for again.
   */
  async byTokenHash(hash: string, keep = true): Promise<DeviceCredentialRecord | undefined> {
    const now = this.clock.nowMicros();
    const hit = this.byToken.get(hash);
    if (hit && hit.until > now) return hit.record;
    const record = await this.store.byTokenHash(hash);
    if (record && keep) this.remember(record, now);
    else this.byToken.delete(hash);
    return record;
  }

  async provision(...args: Parameters<DeviceIdentityStore['provision']>): Promise<boolean> {
    this.forget(args[0]);
    try {
      return await this.store.provision(...args);
    } finally {
      this.forget(args[0]);
    }
  }

  /** Drops what is known of an identity: its credentials, lock or permissions changed. */
  forget(identity: string): void {
    this.byName.delete(identity);
    const hash = this.tokenOf.get(identity);
    if (hash !== undefined) this.byToken.delete(hash);
    this.tokenOf.delete(identity);
  }

  private remember(record: DeviceCredentialRecord, now: number): void {
    if (this.byName.size >= MAX_ENTRIES) {
      this.byName.clear();
      this.byToken.clear();
      this.tokenOf.clear();
    }
    const entry = { record, until: now + TTL_MICROS };
    this.byName.set(record.identity, entry);
    if (record.authType === 'token' && record.credential !== null) {
      const previous = this.tokenOf.get(record.identity);
      if (previous !== undefined && previous !== record.credential) this.byToken.delete(previous);
      this.byToken.set(record.credential, entry);
      this.tokenOf.set(record.identity, record.credential);
    }
  }
}
