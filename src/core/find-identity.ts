import { identityNotFound } from './errors.js';
import type { IdentityRecord, IdentityStore } from './ports.js';

/** The stored identity, or NOT_FOUND naming it. */
export async function findIdentity(store: IdentityStore, identity: string): Promise<IdentityRecord> {
  const record = await store.get(identity);
  if (!record) throw identityNotFound(identity);
  return record;
}
