import type { EventPublisher, GatewayEvent } from './events.js';
import type { IdentityStore } from './ports.js';

/**
 * Raises events that the change raising them stored in its own transaction (a removal's `deleted`,
 * an activation's `provisioned`), and lets the store forget them once every consumer that delivers
 * at least once has them. Until then they stay stored: a run that dies in between raises them at
 * its next start (`raiseUnforgottenEvents`), so a committed change never loses its event. Rejects,
 * with the events still stored, when the consumers could not keep them.
 */
export async function raiseStoredEvents(
  events: EventPublisher,
  store: Pick<IdentityStore, 'forgetEvents'>,
  raised: GatewayEvent[],
): Promise<void> {
  for (const event of raised) events.publish(event);
  await events.kept?.();
  await store.forgetEvents(raised);
}
