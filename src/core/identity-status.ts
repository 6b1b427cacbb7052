import type { IdentityRecord, LifecycleStatus } from './ports.js';

/**
 * Status is derived, never stored: locked wins; otherwise an identity with credentials is
 * provisioned until its key expires (reprovision), and one without is whitelisted until its
 * provisioning window closes (expired). Store adapters filter by the same rule in their query
 * language, and the storage contract suite holds them to it.
 */
export function deriveStatus(
  record: Pick<IdentityRecord, 'locked' | 'credential' | 'authExpire'>,
  now: number,
): LifecycleStatus {
  if (record.locked) return 'locked';
  const lapsed = record.authExpire !== null && record.authExpire < now;
  if (record.credential !== null) return lapsed ? 'reprovision' : 'provisioned';
  return lapsed ? 'expired' : 'whitelisted';
}
