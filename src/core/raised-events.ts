import type { EventPublisher, GatewayEvent } from './events.js';
import type { IdentityStore } from './ports.js';

/**
 * Raises events that the change raising them stored in its own transaction (a removal's `deleted`,
 * an activation's `provisioned`), and lets the store forget them once every consumer that delivers
 * at least once has them. Until then they stay stored: a run that dies in between raises them at
 * its next start (`finishPreviousRun`), so a committed change never loses its event. Rejects,
 * with the events still stored, when the consumers could not keep them.
 */
export async function raiseStoredEvents(
  events: EventPublisher,
  store: Pick<IdentityStore, 'forgetEvents'>,
  raised: GatewayEvent[],
): Promise<void> {
  for (const event of raised) events.publish(event);
  await events.kept?.();
  // The change and its event are done: a failure to forget them must not fail the call. They stay
  // stored and the next start raises them once more, a repeat that at-least-once allows.
  await store.forgetEvents(raised).catch(() => undefined);
}
