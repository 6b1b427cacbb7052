import type { Clock } from './clock.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { EventPublisher } from './events.js';
import type { IdentityStore } from './ports.js';

/**
 * Ends the connections a previous run left open when it died (a crash, SIGKILL): each device it
 * left online gets its `disconnect` (protocol `restart`, no connection id) and a `disconnection`
 * in its metrics, so that every `connect` a consumer received is followed by a `disconnect`. Run
 * after the event consumers start and before the device listeners open, so that a device's
 * reconnection comes after. The store forgets them only once their events are kept: a start that
 * fails before raises them at the next. Resolves with how many.
 */
export async function endConnectionsOfPreviousRun(deps: {
  identities: Pick<IdentityStore, 'leftOnline' | 'forgetLeftOnline'>;
  events: EventPublisher;
  activity: DeviceMetricsRecorder;
  clock: Clock;
}): Promise<number> {
  const left = await deps.identities.leftOnline();
  if (left.length === 0) return 0;
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
  return left.length;
}
