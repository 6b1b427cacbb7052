import type { Clock } from './clock.js';
import type { DeviceMetrics } from './device-metrics.js';
import type { EventPublisher } from './events.js';
import { IdentityService } from './identity-service.js';
import type { Device2Api } from './operations.js';
import type { Store } from './ports.js';
import { ResourceService } from './resource-service.js';
import { SettingsService } from './settings-service.js';
import { StateService } from './state-service.js';
import { TagService } from './tag-service.js';

export interface Device2Deps {
  store: Store;
  events: EventPublisher;
  clock: Clock;
  /** Records the identity metrics and answers getDeviceMetrics. */
  metrics: Pick<DeviceMetrics, 'recorder' | 'query'>;
}

/** Every Device2 operation as an async method, over already-validated parameters. */
export function createDevice2({ store, events, clock, metrics }: Device2Deps): Device2Api {
  const settings = new SettingsService(store.settings);
  const identities = new IdentityService(store.identities, settings, clock, metrics.recorder);
  const tags = new TagService(store.identities);
  const resources = new ResourceService(store.resources, clock);
  const state = new StateService(store.identities, store.resources, events, clock);

  return {
    addIdentity: (p) => identities.add(p),
    makeIdentity: (p) => identities.make(p),
    getIdentity: (p) => identities.get(p.identity),
    listIdentities: (p) => identities.list(p),
    countIdentities: (p) => identities.count(p),
    updateIdentity: (p) => identities.update(p),
    updateIdentities: async (p) => void (await state.updateMatching(p)),
    removeIdentity: async (p) => {
      await identities.remove(p.identity);
      events.publish(deletedEvent(p.identity, clock));
    },
    removeIdentities: async (p) => {
      for (const identity of await identities.removeMany(p.identities))
        events.publish(deletedEvent(identity, clock));
    },
    getIdentityState: (p) => state.get(p.identity),
    setIdentityState: ({ identity, simulate, ...values }) => state.set(identity, values, simulate ?? false),
    addIdentityTag: (p) => tags.add(p.identity, p.tags, p.replace ?? false),
    getIdentityTag: (p) => tags.values(p.identity, p.name),
    listTagNames: () => tags.names(),
    removeIdentityTag: (p) => tags.remove(p.identity, p.name, p.value),
    getIdentityPermission: (p) => tags.permission(p.identity),
    updateIdentityPermission: (p) => tags.updatePermission(p.identity, p.permission),
    addResource: (p) => resources.add(p),
    getGatewayResource: (p) => resources.get(p.alias),
    getGatewayResourceList: () => resources.list(),
    updateResource: (p) => resources.update(p),
    removeResource: (p) => resources.remove(p.alias),
    getGatewaySettings: () => settings.get(),
    updateGatewaySettings: (p) => settings.update(p),
    getSolutionPairing: () => settings.pairing(),
    getDeviceMetrics: (p) => metrics.query(p),
  };
}

function deletedEvent(identity: string, clock: Clock) {
  return {
    type: 'deleted' as const,
    identity,
    ip: null,
    protocol: 'api',
    timestamp: clock.nowMicros(),
    connection_id: null,
  };
}
