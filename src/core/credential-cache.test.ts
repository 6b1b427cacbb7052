import { describe, expect, it } from 'vitest';
import { CredentialCache } from './credential-cache.js';
import { hashSecret } from './credentials.js';
import type { DeviceCredentialRecord, DeviceIdentityStore } from './device-ports.js';
import type { AuthType } from './schemas/identity.js';

/** The store as a map of records, counting the reads that reach it. */
class MemoryDevices implements DeviceIdentityStore {
  readonly records = new Map<string, DeviceCredentialRecord>();
  reads = 0;

  async byIdentity(identity: string) {
    this.reads++;
    const record = this.records.get(identity);
    return record && { ...record };
  }

  async byTokenHash(hash: string) {
    this.reads++;
    const record = [...this.records.values()].find((r) => r.authType === 'token' && r.credential === hash);
    return record && { ...record };
  }

  async provision(
    identity: string,
    expected: string | null,
    next: { authType: AuthType; credential: string },
  ) {
    const record = this.records.get(identity);
    if (!record || record.credential !== expected) return false;
    this.records.set(identity, { ...record, ...next, authExpire: null });
    return true;
  }

  add(identity: string, credential: string) {
    this.records.set(identity, {
      identity,
      authType: 'token',
      credential,
      authExpire: null,
      locked: false,
      permission: {},
    });
  }
}

function setup() {
  const devices = new MemoryDevices();
  let now = 1_700_000_000_000_000;
  const clock = { nowMicros: () => now, advance: (micros: number) => (now += micros) };
  const hash = hashSecret('a'.repeat(40));
  devices.add('dev', hash);
  return { devices, clock, cache: new CredentialCache(devices, clock), hash };
}

describe('the credential cache', () => {
  it('answers a repeated token lookup from memory', async () => {
    const { cache, devices, hash } = setup();
    expect((await cache.byTokenHash(hash))?.identity).toBe('dev');
    expect((await cache.byTokenHash(hash))?.identity).toBe('dev');
    expect((await cache.byIdentity('dev'))?.identity).toBe('dev');
    expect(devices.reads).toBe(1);
  });

  it('keeps nothing for a lookup that will not repeat (an MQTT connect), yet answers it from memory when known', async () => {
    const { cache, devices, hash } = setup();
    expect((await cache.byTokenHash(hash, false))?.identity).toBe('dev');
    expect((await cache.byTokenHash(hash, false))?.identity).toBe('dev');
    expect(devices.reads).toBe(2);
    await cache.byTokenHash(hash);
    expect((await cache.byTokenHash(hash, false))?.identity).toBe('dev');
    expect(devices.reads).toBe(3);
  });

  it('asks the store again once the entry is a few seconds old', async () => {
    const { cache, clock, devices, hash } = setup();
    await cache.byTokenHash(hash);
    clock.advance(6_000_000);
    await cache.byTokenHash(hash);
    expect(devices.reads).toBe(2);
  });

  it('forgets an identity at once when told, so that a lock or a new key applies to the next request', async () => {
    const { cache, devices, hash } = setup();
    await cache.byTokenHash(hash);
    devices.records.get('dev')!.locked = true;
    expect((await cache.byTokenHash(hash))?.locked).toBe(false);
    cache.forget('dev');
    expect((await cache.byTokenHash(hash))?.locked).toBe(true);
  });

  it('stops answering to the old token once the identity provisions a new one', async () => {
    const { cache, hash } = setup();
    await cache.byTokenHash(hash);
    const next = hashSecret('b'.repeat(40));
    expect(await cache.provision('dev', hash, { authType: 'token', credential: next })).toBe(true);
    expect(await cache.byTokenHash(hash)).toBeUndefined();
    expect((await cache.byTokenHash(next))?.identity).toBe('dev');
  });

  it('does not remember unknown tokens, so a token added later works at once', async () => {
    const { cache, devices } = setup();
    const later = hashSecret('c'.repeat(40));
    expect(await cache.byTokenHash(later)).toBeUndefined();
    devices.add('later', later);
    expect((await cache.byTokenHash(later))?.identity).toBe('later');
  });
});
