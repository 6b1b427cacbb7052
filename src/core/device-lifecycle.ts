import type { AuthenticatedDevice, ConnectionContext } from './device-auth.js';
import type { DeviceConnections, DeviceLink, SetValue } from './device-connections.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { Clock } from './clock.js';
import type { EventPublisher } from './events.js';
import type { IdentityStore } from './ports.js';
import type { ResourceCatalog } from './resource-catalog.js';
import type { IdentityState } from './schemas/common.js';

/** Set values the device has not acknowledged yet: sync resources whose set differs from reported. */
function pendingSetValues(state: IdentityState, syncAliases: Set<string>): SetValue[] {
  const pending: SetValue[] = [];
  for (const [alias, entry] of Object.entries(state)) {
    if (!syncAliases.has(alias) || entry.set === undefined || entry.set === entry.reported) continue;
    pending.push({ alias, value: entry.set, timestamp: entry.timestamp });
  }
  return pending;
}

export interface DeviceLifecycleDeps {
  identities: IdentityStore;
  connections: DeviceConnections;
  resources: ResourceCatalog;
  events: EventPublisher;
  activity: DeviceMetricsRecorder;
  clock: Clock;
  /** Counts what a stop waits for (`DeviceService.settled`). */
  underWay: { begin(): void; end(): void };
}

/**
 * A device connection's life, as the edges report it: accepted (`announce`: its `connect`), open
 * (`connect`: online, its pending set values sent), ended (`disconnect`).
 */
export class DeviceLifecycle {
  /** Connections whose `connect` is raised and whose `disconnect` is not yet. */
  private readonly announced = new WeakSet<DeviceLink>();

  constructor(private readonly deps: DeviceLifecycleDeps) {}

  /**
   * A device's connection is accepted, and the edge is about to acknowledge it (MQTT: CONNACK): its
   * `connect` is raised and stored by the consumers first, so that an acknowledged connection has
   * its event even if the process dies just after (CONTRACT §4). From here on, `disconnect` raises
   * the matching event however the connection ends, even if it never becomes ready (`connect`).
   */
  async announce(
    device: AuthenticatedDevice,
    ctx: ConnectionContext,
    link: DeviceLink,
    /** Whether the connection is still wanted once its event is kept (not closed, no stop). */
    wanted: () => boolean,
  ): Promise<boolean> {
    // Under way like a publish: a stop waits for it (`settled`), and for its disconnect if any.
    this.deps.underWay.begin();
    try {
      this.announced.add(link);
      this.event('connect', device.identity, ctx, this.deps.clock.nowMicros());
      const kept = this.deps.events.kept?.();
      if (kept) await kept;
      if (wanted()) return true;
      void this.disconnect(device, ctx, link);
      return false;
    } catch (error) {
      void this.disconnect(device, ctx, link);
      throw error;
    } finally {
      this.deps.underWay.end();
    }
  }

  /** A device's connection is open: it is online, and receives the set values it has not acknowledged. */
  async connect(device: AuthenticatedDevice, ctx: ConnectionContext, link: DeviceLink): Promise<void> {
    const { connections, identities, clock } = this.deps;
    if (!connections.add(device.identity, link, ctx.closeMark)) {
      // Locked, removed or given new credentials while this connection was being accepted.
      link.close('closed while connecting');
      return;
    }
    const at = clock.nowMicros();
    await identities.markSeen(device.identity, { at, ip: ctx.ip ?? undefined, online: true });
    this.deps.activity.record('connection', device.identity);
    // Only settable sync resources can hold a set value the device has not reported back; without
    // any, there is nothing to send and no state to read.
    const definitions = this.deps.resources.current() ?? (await this.deps.resources.list());
    const sync = new Set(
      Object.keys(definitions).filter((alias) => definitions[alias]!.sync && definitions[alias]!.settable),
    );
    if (sync.size === 0) return;
    const record = await identities.get(device.identity);
    if (!record) return;
    const pending = pendingSetValues(record.state, sync);
    if (pending.length > 0) link.deliver(pending);
  }

  /** A device's connection ended; called again for the same link, it does nothing. */
  async disconnect(device: AuthenticatedDevice, ctx: ConnectionContext, link: DeviceLink): Promise<void> {
    const { connections, identities, clock } = this.deps;
    const announced = this.announced.delete(link);
    const at = clock.nowMicros();
    if (!connections.has(device.identity, link)) {
      // Never open (refused by connect, or gone before it was ready): it was never counted, and
      // raises a disconnect only if its connect was raised.
      if (announced) this.event('disconnect', device.identity, ctx, at);
      return;
    }
    const wasLast = connections.remove(device.identity, link);
    this.deps.activity.record('disconnection', device.identity);
    this.event('disconnect', device.identity, ctx, at);
    // Online means connected at all: another connection of the same identity keeps it so.
    if (wasLast) await identities.markSeen(device.identity, { at, online: false });
  }

  private event(type: 'connect' | 'disconnect', identity: string, ctx: ConnectionContext, at: number): void {
    this.deps.events.publish({
      type,
      identity,
      ip: ctx.ip,
      protocol: ctx.protocol,
      timestamp: at,
      connection_id: ctx.connectionId,
    });
  }
}
