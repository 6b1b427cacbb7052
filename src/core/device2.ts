import type { Clock } from './clock.js';
import type { DeviceMetrics } from './device-metrics.js';
import type { EventPublisher, GatewayEvent } from './events.js';
import { raiseStoredEvents } from './raised-events.js';
import { CredentialCache } from './credential-cache.js';
import { DeviceAuth } from './device-auth.js';
import { DeviceConnections } from './device-connections.js';
import { DeviceService } from './device-service.js';
import { IdentityService } from './identity-service.js';
import type { Device2Api } from './operations.js';
import type { Store } from './ports.js';
import type { Sample } from './device-ports.js';
import { ResourceCatalog } from './resource-catalog.js';
import { ResourceService } from './resource-service.js';
import { SettingsService } from './settings-service.js';
import { StateService } from './state-service.js';
import { TagService } from './tag-service.js';
import { PublishData } from './publish-data.js';
import { TimeSeriesQueries } from './time-series-query.js';
import { SignalParser, type SignalParserReport } from './signal-parser.js';
import { SignalSubscribers } from './signal-subscribers.js';
import { SignalSubscriptions } from './signal-subscriptions.js';
import type { ArchiveFiles } from './archive-ports.js';
import type { Scheduler } from './device-metrics.js';
import { PartitionArchiver, type ArchiverDeps } from './partition-archiver.js';
import { RestoreRunner, type RestoreRunnerDeps } from './restore-runner.js';
import { RestoreService } from './restore-service.js';

export interface Device2Deps {
  store: Store;
  events: EventPublisher;
  clock: Clock;
  /** Records device and identity metrics and answers getDeviceMetrics. */
  metrics: Pick<DeviceMetrics, 'recorder' | 'query'>;
  /** Where the signal parser says what it skipped (logged and counted); absent: nowhere. */
  signalParserReport?: SignalParserReport;
  /** Daily archive files, and the background restore (docs/archive.md). */
  archive: ArchiveDeps;
}

export interface ArchiveDeps {
  files: ArchiveFiles;
  /** Samples per restore transaction. */
  restoreBatchRows?: number;
  /** Timer of the expiry of restored data; by default an hourly interval. */
  scheduler?: Scheduler;
  /** Reports from the background work, for the log. */
  events?: Pick<RestoreRunnerDeps, 'onError' | 'onFinished' | 'onExpired'> &
    Pick<ArchiverDeps, 'onArchived' | 'onSealed'>;
}

export interface Core {
  /** Every Device2 operation as an async method, over already-validated parameters. */
  device2: Device2Api;
  /** What the device edges do on behalf of devices. */
  devices: DeviceService;
  /** Devices' signal subscriptions: the MQTT edge records them, committed samples reach them. */
  signals: SignalSubscriptions;
  /** querySignal(s)Subscribers; the consumers other than MQTT add themselves as they start. */
  subscribers: SignalSubscribers;
  /** Retention's archive, and archiving on demand. */
  archiver: PartitionArchiver;
  /** Restores the files of restore tasks in the background; started and stopped by the caller. */
  restoreRunner: RestoreRunner;
}

/** Every Device2 operation as an async method, over already-validated parameters. */
export function createDevice2(deps: Device2Deps): Device2Api {
  return createCore(deps).device2;
}

/** Builds the use cases over one store, sharing the caches (settings, resources) between them. */
export function createCore({
  store,
  events,
  clock,
  metrics,
  signalParserReport,
  archive,
}: Device2Deps): Core {
  const activity = metrics.recorder;
  const settings = new SettingsService(store.settings);
  const catalog = new ResourceCatalog(store.resources);
  const connections = new DeviceConnections();
  const identities = new IdentityService(store.identities, settings, clock, activity);
  const tags = new TagService(store.identities);
  const resources = new ResourceService(catalog, clock);
  const state = new StateService(store.identities, catalog, events, clock, connections);
  const credentials = new CredentialCache(store.devices, clock);
  const auth = new DeviceAuth(credentials, store.identities, settings, events, activity, clock);
  const signalParser = new SignalParser({
    settings,
    series: store.series,
    report: signalParserReport ?? { skipped() {} },
  });
  const signals = new SignalSubscriptions({
    permission: async (identity) => (await credentials.byIdentity(identity))?.permission,
    clock,
  });
  const onCommitted = (identity: string, samples: Sample[]) => signals.committed(identity, samples);
  const subscribers = new SignalSubscribers({ identities: store.identities, series: store.series });
  subscribers.addSource(signals);
  const devices = new DeviceService(auth, {
    identities: store.identities,
    devices: credentials,
    ingest: store.ingest,
    resources: catalog,
    settings,
    connections,
    events,
    activity,
    clock,
    signalParser,
    onCommitted,
  });

  const series = new TimeSeriesQueries({
    series: store.series,
    identities: store.identities,
    resources: catalog,
    clock,
  });
  const publishData = new PublishData({
    ingest: store.ingest,
    identities: store.identities,
    series: store.series,
    resources: catalog,
    clock,
    signalParser,
    onCommitted,
  });

  const archiver = new PartitionArchiver({
    source: store.archive,
    files: archive.files,
    resources: catalog,
    clock,
    ...(archive.events?.onArchived && { onArchived: archive.events.onArchived }),
    ...(archive.events?.onSealed && { onSealed: archive.events.onSealed }),
  });
  const restoreRunner = new RestoreRunner({
    store: store.restores,
    files: archive.files,
    clock,
    ...(archive.restoreBatchRows !== undefined && { batchRows: archive.restoreBatchRows }),
    ...(archive.scheduler && { scheduler: archive.scheduler }),
    ...(archive.events && {
      onError: archive.events.onError,
      onFinished: archive.events.onFinished,
      onExpired: archive.events.onExpired,
    }),
  });
  const restore = new RestoreService({
    store: store.restores,
    files: archive.files,
    clock,
    runner: restoreRunner,
  });

  /** What this process knows of a removed identity, and its connections. */
  function forgetRemoved(identity: string): void {
    credentials.forget(identity);
    signalParser.forget(identity);
    connections.closeAll(identity, 'identity deleted');
  }

  const device2: Device2Api = {
    addIdentity: (p) => identities.add(p),
    makeIdentity: (p) => identities.make(p),
    getIdentity: (p) => identities.get(p.identity),
    listIdentities: (p) => identities.list(p),
    countIdentities: (p) => identities.count(p),
    updateIdentities: async (p) => void (await state.updateMatching(p)),
    updateIdentity: async (p) => {
      await identities.update(p);
      // Locking, or new credentials ("revoke the device's keys"), ends the device's connections.
      credentials.forget(p.identity);
      if (p.locked === true || p.auth !== undefined) connections.closeAll(p.identity, 'credentials changed');
    },
    removeIdentity: async (p) => {
      const deleted = deletedEvent(p.identity, clock);
      await identities.remove(p.identity, deleted);
      forgetRemoved(p.identity);
      await raiseStoredEvents(events, store.identities, [deleted]);
    },
    removeIdentities: async (p) => {
      const deleted = await identities.removeMany(p.identities, (identity) => deletedEvent(identity, clock));
      for (const { identity } of deleted) forgetRemoved(identity);
      await raiseStoredEvents(events, store.identities, deleted);
    },
    getIdentityState: (p) => state.get(p.identity),
    setIdentityState: ({ identity, simulate, ...values }) => state.set(identity, values, simulate ?? false),
    addIdentityTag: (p) => tags.add(p.identity, p.tags, p.replace ?? false),
    getIdentityTag: (p) => tags.values(p.identity, p.name),
    listTagNames: () => tags.names(),
    removeIdentityTag: (p) => tags.remove(p.identity, p.name, p.value),
    getIdentityPermission: (p) => tags.permission(p.identity),
    updateIdentityPermission: async (p) => {
      await tags.updatePermission(p.identity, p.permission);
      credentials.forget(p.identity);
      await signals.permissionChanged(p.identity);
    },
    addResource: (p) => resources.add(p),
    getGatewayResource: (p) => resources.get(p.alias),
    getGatewayResourceList: () => resources.list(),
    updateResource: (p) => resources.update(p),
    removeResource: (p) => resources.remove(p.alias),
    getGatewaySettings: () => settings.get(),
    updateGatewaySettings: (p) => settings.update(p),
    getSolutionPairing: () => settings.pairing(),
    getDeviceMetrics: (p) => metrics.query(p),
    publishData: (p) => publishData.publish(p),
    queryResource: (p) => series.queryResource(p),
    querySignal: (p) => series.querySignal(p),
    querySignals: (p) => series.querySignals(p),
    aggrqueryResource: (p) => series.aggrqueryResource(p),
    aggrquerySignal: (p) => series.aggrquerySignal(p),
    aggrquerySignals: (p) => series.aggrquerySignals(p),
    latestSignalsSearch: (p) => series.latestSignalsSearch(p),
    querySignalSubscribers: (p) => subscribers.querySignalSubscribers(p),
    querySignalsSubscribers: (p) => subscribers.querySignalsSubscribers(p),
    restoreTime: (p) => restore.restoreTime(p),
    restoreUrl: (p) => restore.restoreUrl(p),
    getRestoreStatus: () => restore.getRestoreStatus(),
    getRestoreTaskStatus: (p) => restore.getRestoreTaskStatus(p),
    retryRestoreTask: (p) => restore.retryRestoreTask(p),
  };
  return { device2, devices, signals, subscribers, archiver, restoreRunner };
}

function deletedEvent(identity: string, clock: Clock): GatewayEvent {
  return {
    type: 'deleted',
    identity,
    ip: null,
    protocol: 'api',
    timestamp: clock.nowMicros(),
    connection_id: null,
  };
}
