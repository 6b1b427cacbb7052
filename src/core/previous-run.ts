import type { Clock } from './clock.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { EventPublisher } from './events.js';
import type { IdentityStore } from './ports.js';

/**
 * Ends the connections a previous run left open when it died (a crash, SIGKILL): each device it
 * left online gets its `disconnect` (protocol `restart`, no connection id) and a `disconnection`
 * in its metrics, so that every `connect` a consumer received is followed by a `disconnect`. Run
 * after the event consumers start and before the device listeners open, so that a device's
 * reconnection comes after. Resolves with how many, once their events are kept.
 */
export async function endConnectionsOfPreviousRun(deps: {
  identities: Pick<IdentityStore, 'takeLeftOnline'>;
  events: EventPublisher;
  activity: DeviceMetricsRecorder;
  clock: Clock;
}): Promise<number> {
  const left = await deps.identities.takeLeftOnline();
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
  return left.length;
}
