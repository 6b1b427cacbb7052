import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { buildApi } from './api/build-api.js';
import { createFileArchive } from './archive/archive-files.js';
import { EventStreamHub } from './api/event-stream.js';
import { createApiMetrics } from './api/metrics.js';
import { createSignalParserReport } from './api/signal-parser-report.js';
import { InProcessBus } from './bus/in-process-bus.js';
import { resolveAdminToken } from './config/admin-token.js';
import { envName, flagName, type Config } from './config/config-schema.js';
import { systemClock, type Clock } from './core/clock.js';
import { checkedDevice2 } from './core/checked-device2.js';
import { createDeviceMetrics } from './core/device-metrics.js';
import type { DeviceService } from './core/device-service.js';
import { createCore } from './core/device2.js';
import { createEventIds } from './core/event-source.js';
import type { Device2Api } from './core/operations.js';
import { finishPreviousRun } from './core/previous-run.js';
import { RetentionJob } from './core/retention.js';
import type { SampleArchive } from './core/time-series-ports.js';
import { WebhookService } from './core/webhook-service.js';
import { EventHandlerRunner } from './events/event-handler-runner.js';
import { EventHandlerSessions } from './events/event-handler-sessions.js';
import { WebhookSubscriberSource } from './events/webhook-subscribers.js';
import { createHttpWebhookTransport } from './events/http-webhook-transport.js';
import { loadEventHandler } from './events/load-event-handler.js';
import type { DeliveryOptions } from './events/webhook-delivery.js';
import { WebhookDispatcher } from './events/webhook-dispatcher.js';
import { bindError, ListenerError } from './config/listener-error.js';
import { createDeviceHttpListeners } from './device-http/device-http-listeners.js';
import { createMqttService } from './mqtt/mqtt-service.js';
import { createSqliteStore } from './storage/sqlite/sqlite-store.js';
import { packageVersion } from './version.js';

export interface GatewayOptions {
  logger: Logger;
  clock?: Clock;
  /** Webhook delivery tuning (timeouts, retry schedule); the defaults suit production. */
  webhookDelivery?: Partial<DeliveryOptions>;
  /** Where partitions go before retention drops them; by default the daily archive files. */
  archive?: SampleArchive;
  /** Samples per restore transaction (docs/archive.md); the default suits production. */
  restoreBatchRows?: number;
}

export interface Gateway {
  device2: Device2Api;
  devices: DeviceService;
  bus: InProcessBus;
  /** Binds every listener; on failure closes what it opened and throws naming the setting. */
  start(): Promise<Record<string, number | undefined>>;
  /**
   * Stops accepting, lets requests in flight finish, ends event streams, lets running event
   * handler calls finish, writes queued webhook deliveries, and closes the store.
   */
  stop(): Promise<void>;
}

export class StartupError extends Error {}

function openDataDir(config: Config, logger: Logger) {
  try {
    mkdirSync(config.dataDir, { recursive: true });
    const admin = resolveAdminToken(config.adminToken, config.dataDir);
    const store = createSqliteStore(join(config.dataDir, 'fleetgate.db'), {
      onIngestThreadFailure: (error) =>
        logger.error(
          { err: error },
          'the ingest thread failed: device data is committed on the gateway thread',
        ),
      onIngestCallbackError: (error) =>
        logger.error({ err: error }, 'answering a committed device write failed'),
    });
    return { admin, store };
  } catch (error) {
    throw new StartupError(
      `${envName('dataDir')} (${flagName('dataDir')}): cannot use ${config.dataDir} (${(error as Error).message})`,
    );
  }
}

/** The composition root: the one place that builds and wires every part of the gateway. */
export function createGateway(
  config: Config,
  { logger, clock = systemClock, webhookDelivery, archive, restoreBatchRows }: GatewayOptions,
): Gateway {
  const { store, admin } = openDataDir(config, logger);
  if (admin.generated) {
    logger.info(
      { adminToken: admin.token, file: admin.file },
      'generated the admin token; it is kept in the data directory',
    );
  }
  const bus = new InProcessBus((err, event) =>
    logger.error({ err, event: event.type }, 'event subscriber failed'),
  );
  const deviceMetrics = createDeviceMetrics({
    store: store.deviceMetrics,
    clock,
    connectedCount: () => devices.connectedDevices(),
    onError: (err) => logger.error({ err }, 'device metrics flush failed'),
  });
  const signalParser = createSignalParserReport(logger.child({ component: 'signal-parser' }));
  const archiveLog = logger.child({ component: 'archive' });
  const { device2, devices, signals, subscribers, archiver, restoreRunner } = createCore({
    store,
    events: bus,
    clock,
    metrics: deviceMetrics,
    signalParserReport: signalParser.report,
    archive: {
      files: createFileArchive({
        dir: config.archiveDir ?? join(config.dataDir, 'archive'),
        urlTimeoutMs: config.restoreTimeout * 1000,
        now: () => clock.nowMicros(),
      }),
      ...(restoreBatchRows !== undefined && { restoreBatchRows }),
      events: {
        onError: (err) => archiveLog.error({ err }, 'restore runner failed'),
        onFinished: (job, failure) =>
          failure === undefined
            ? archiveLog.info({ task: job.taskId, file: job.fileName }, 'file restored')
            : archiveLog.warn({ task: job.taskId, file: job.fileName, failure }, 'file not restored'),
        onExpired: (months) => archiveLog.info({ months }, 'restored data expired'),
        onSealed: ({ retention, month }) => archiveLog.info({ retention, month }, 'archiving partition'),
        onArchived: (file) =>
          archiveLog.info({ file: file.name, rows: file.rows, bytes: file.bytes }, 'archive file written'),
      },
    },
  });
  const deviceHttp = createDeviceHttpListeners({ config, devices, clock, logger });
  const mqtt = createMqttService({ config, devices, signals, activity: deviceMetrics.recorder, logger });
  const retentionLog = logger.child({ component: 'retention' });
  const retention = new RetentionJob({
    store: store.series,
    clock,
    archive: archive ?? archiver,
    onError: (err, partition) =>
      retentionLog.error({ err, partition }, 'partition kept: archive or drop failed'),
    onDropped: (partition) => retentionLog.info({ partition }, 'partition dropped'),
  });
  const eventIds = createEventIds();
  const dispatcher = new WebhookDispatcher({
    source: bus,
    ids: eventIds,
    store: store.webhooks,
    transport: createHttpWebhookTransport(`fleetgate/${packageVersion()}`),
    clock,
    log: logger.child({ component: 'webhooks' }),
    ...(webhookDelivery && { options: webhookDelivery }),
  });
  const webhooks = new WebhookService({ store: store.webhooks, control: dispatcher, clock });
  subscribers.addSource(new WebhookSubscriberSource(store.webhooks));
  const eventStream = new EventStreamHub(bus, eventIds, logger.child({ component: 'event-stream' }));
  const metrics = createApiMetrics(async () => (await device2.countIdentities({})).count);
  metrics.registry.registerMetric(signalParser.counter);
  const api = buildApi({
    device2,
    webhooks,
    eventStream,
    adminToken: admin.token,
    metrics,
    logger,
    version: packageVersion(),
  });
  let eventHandler: EventHandlerRunner | undefined;

  async function stop(): Promise<void> {
    // Device writes in flight finish (and long-polls end) before the store closes.
    await Promise.all([api.close(), deviceHttp.stop(), mqtt.stop()]);
    await devices.settled();
    await eventHandler?.stop();
    await deviceMetrics.stop();
    // A partition being archived is left sealed, and finished after the next start.
    await archiver.stop();
    await retention.stop();
    signalParser.stop();
    await restoreRunner.stop();
    // Before the store closes: the deliveries of the last events are written to the outbox.
    await dispatcher.stop();
    await store.close();
  }

  /** Starts what consumes events, so that nothing published once the API listens is missed. */
  async function startEventConsumers(): Promise<void> {
    const { removed } = await webhooks.configure(
      config.webhookUrl !== undefined && config.webhookSecret !== undefined
        ? { url: config.webhookUrl, secret: config.webhookSecret }
        : undefined,
    );
    if (removed) {
      logger.warn(
        removed,
        `the webhook of ${envName('webhookUrl')} is no longer configured: removed with its deliveries`,
      );
    }
    if (config.eventHandler === undefined) {
      const dropped = await store.handlerQueue.clear();
      if (dropped > 0)
        logger.warn(
          { dropped },
          `no ${envName('eventHandler')} is configured: the events queued for the event handler are dropped`,
        );
      return;
    }
    let handler;
    try {
      handler = await loadEventHandler(config.eventHandler);
    } catch (error) {
      throw new StartupError(
        `${envName('eventHandler')} (${flagName('eventHandler')}): ${(error as Error).message}`,
      );
    }
    const runner = new EventHandlerRunner(
      handler,
      checkedDevice2(device2),
      store.handlerQueue,
      logger.child({ component: 'event-handler' }),
    );
    eventHandler = runner;
    const sessions = new EventHandlerSessions({
      waiting: (identity) => runner.waiting(identity),
      now: () => clock.nowMicros(),
    });
    runner.onSettled = (event, ok) => sessions.settled(event, ok);
    subscribers.addSource(sessions);
    eventHandler.start(bus);
    logger.info({ module: config.eventHandler }, 'event handler loaded');
  }

  return {
    device2,
    devices,
    bus,
    async start() {
      try {
        await startEventConsumers();
        const previous = await finishPreviousRun({
          identities: store.identities,
          events: bus,
          activity: deviceMetrics.recorder,
          clock,
        });
        if (previous.raised > 0)
          logger.warn(
            { events: previous.raised },
            'the previous run ended before its event consumers had these identity changes: their events raised',
          );
        if (previous.disconnected > 0)
          logger.warn(
            { devices: previous.disconnected },
            'the previous run ended without closing these device connections: disconnect events raised',
          );
      } catch (error) {
        await stop();
        throw error;
      }
      try {
        await api.listen({ port: config.apiPort, host: config.bind });
      } catch (error) {
        await stop();
        throw new StartupError(bindError(error, 'apiPort', config.apiPort, config.bind).message);
      }
      const address = api.server.address();
      const apiPort = typeof address === 'object' && address ? address.port : config.apiPort;
      logger.info({ listener: 'api', port: apiPort }, 'listening');
      deviceMetrics.start();
      // A partition a crash left half archived is finished before retention looks for more.
      void archiver
        .resume()
        .catch((err: unknown) => archiveLog.error({ err }, 'archiving left by a crash failed'));
      retention.start();
      restoreRunner.start();
      try {
        return { apiPort, ...(await deviceHttp.start()), ...(await mqtt.start()) };
      } catch (error) {
        await stop();
        throw error instanceof ListenerError ? new StartupError(error.message) : error;
      }
    },
    stop,
  };
}
