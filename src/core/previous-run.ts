import type { Clock } from './clock.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { EventPublisher } from './events.js';
import type { IdentityStore } from './ports.js';
import { raiseStoredEvents } from './raised-events.js';

/**
 * Finishes what a previous run that died (a crash, SIGKILL) left undone for the event consumers
 * (CONTRACT §4, at least once). First the events stored with a committed change that it had not
 * handed over (`deleted`, `provisioned`: IdentityStore.unforgottenEvents), in their order. Then the
 * connections it left open: each device it left online gets its `disconnect` (protocol `restart`,
 * no connection id) and a `disconnection` in its metrics, so that every `connect` a consumer
 * received is followed by a `disconnect`. Run after the event consumers start and before the
 * device listeners open, so that a device's reconnection comes after. The store forgets both only
 * once their events are kept: a start that fails before raises them at the next.
 */
export async function finishPreviousRun(deps: {
  identities: Pick<IdentityStore, 'leftOnline' | 'forgetLeftOnline' | 'unforgottenEvents' | 'forgetEvents'>;
  events: EventPublisher;
  activity: DeviceMetricsRecorder;
  clock: Clock;
}): Promise<{ raised: number; disconnected: number }> {
  const unforgotten = await deps.identities.unforgottenEvents();
  if (unforgotten.length > 0) await raiseStoredEvents(deps.events, deps.identities, unforgotten);
  const left = await deps.identities.leftOnline();
  if (left.length === 0) return { raised: unforgotten.length, disconnected: 0 };
  const at = deps.clock.nowMicros();
  for (const { identity, ip } of left) {
    deps.activity.record('disconnection', identity);
    deps.events.publish({
      type: 'disconnect',
      identity,
      ip,
      protocol: 'restart',
      timestamp: at,
      connection_id: null,
    });
  }
  await deps.events.kept?.();
  await deps.identities.forgetLeftOnline(left.map((l) => l.identity));
  return { raised: unforgotten.length, disconnected: left.length };
}
