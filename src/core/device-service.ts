import type { X509Certificate } from 'node:crypto';
import type { Clock } from './clock.js';
import { certificateIdentity, issuedByClientCa } from './device-certificate.js';
import type { AuthenticatedDevice, ConnectionContext, DeviceAuth, DeviceCredentials } from './device-auth.js';
import type { DeviceConnections, DeviceLink, SetValue } from './device-connections.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { DeviceIdentityStore, IngestStore, Sample } from './device-ports.js';
import { forbidden } from './errors.js';
import type { EventPublisher } from './events.js';
import { DeviceLifecycle } from './device-lifecycle.js';
import { DevicePublish, type DevicePublishDeps, type PublishDone } from './device-publish.js';
import type { PublishContent } from './publish-values.js';
import type { IdentityStore } from './ports.js';
import type { ResourceCatalog } from './resource-catalog.js';
import { readSetValues, waitForSetValue } from './set-value-reads.js';
import type { ResourceValue } from './schemas/common.js';
import type { SettingsService } from './settings-service.js';
import type { SignalParser } from './signal-parser.js';

/** One timestamped group of values from a device; `timestamp` in µs, absent for "now". */
export interface PublishRecord {
  timestamp?: number;
  values: Record<string, unknown>;
}

/** What the device edges (MQTT, HTTP) do on behalf of devices; they only translate protocols. */
export class DeviceService {
  private lastStamp = 0;
  /** The clock as read for the publishes of the current task (`stamp`). */
  private taskTime: number | undefined;
  private readonly dropTaskTime = () => {
    this.taskTime = undefined;
  };
  /** Publishes and connects under way, and who waits for there to be none (`settled`). */
  private publishing = 0;
  private readonly whenSettled: (() => void)[] = [];
  private readonly publishDeps: DevicePublishDeps;
  private readonly lifecycle: DeviceLifecycle;

  constructor(
    readonly auth: DeviceAuth,
    private readonly deps: {
      identities: IdentityStore;
      devices: DeviceIdentityStore;
      ingest: IngestStore;
      resources: ResourceCatalog;
      settings: SettingsService;
      connections: DeviceConnections;
      events: EventPublisher;
      activity: DeviceMetricsRecorder;
      clock: Clock;
      /** config_io and data_in values become signals and their samples (enable_signal_parser). */
      signalParser?: Pick<SignalParser, 'parse' | 'forget'>;
      /** Told of the samples of every committed write (signal subscribers). */
      onCommitted?: (identity: string, samples: Sample[]) => void;
    },
  ) {
    const ended = () => {
      if (--this.publishing === 0 && this.whenSettled.length > 0)
        for (const resolve of this.whenSettled.splice(0)) resolve();
    };
    this.lifecycle = new DeviceLifecycle({
      ...deps,
      underWay: { begin: () => this.publishing++, end: ended },
    });
    this.publishDeps = {
      ...deps,
      stamp: () => this.stamp(),
      checkPublishAs: (device, identity) => this.checkPublishAs(device, identity),
      ended,
    };
  }

  authenticate(credentials: DeviceCredentials, ctx: ConnectionContext): Promise<AuthenticatedDevice> {
    return this.auth.authenticate(credentials, ctx);
  }

  /**
   * Whether connecting sends the alias's pending set value again (settable sync resources): a
   * resumed MQTT session's queued copy of it is then not needed.
   */
  resendsOnConnect(alias: string): boolean {
    const definitions = this.deps.resources.current();
    const definition = definitions && Object.hasOwn(definitions, alias) ? definitions[alias] : undefined;
    return definition !== undefined && definition.sync && definition.settable;
  }

  /** Counts a device request refused before it reached a use case (a malformed HTTP request). */
  refused(identity: string | null, reason: string): void {
    this.deps.activity.record('connection_error', identity, 1, reason);
  }

  /** For `ConnectionContext.closeMark`: taken before authenticating a connection that stays open. */
  closeMark(): number {
    return this.deps.connections.mark();
  }

  /** A TLS client certificate as credentials: CN = identity, checked against pki.client_ca when enabled. */
  async certificateCredentials(certificate: X509Certificate): Promise<DeviceCredentials> {
    const { pki } = await this.deps.settings.get();
    return {
      type: 'certificate',
      identity: certificateIdentity(certificate) ?? '',
      certificate: certificate.toString(),
      caVerified: pki?.enabled === true && issuedByClientCa(certificate, pki.client_ca),
    };
  }

  activate(identity: string, ctx: ConnectionContext): Promise<{ identity: string; token: string }> {
    return this.auth.activate(identity, ctx);
  }

  /**
   * A device's connection is accepted, and the edge is about to acknowledge it (MQTT: CONNACK):
   * its `connect` is raised and kept first (DeviceLifecycle).
   */
  announce(
    device: AuthenticatedDevice,
    ctx: ConnectionContext,
    link: DeviceLink,
    wanted: () => boolean,
  ): Promise<boolean> {
    return this.lifecycle.announce(device, ctx, link, wanted);
  }

  /** A device's connection is open: it is online, and receives the set values it has not acknowledged. */
  connect(device: AuthenticatedDevice, ctx: ConnectionContext, link: DeviceLink): Promise<void> {
    return this.lifecycle.connect(device, ctx, link);
  }

  /** A device's connection ended; called again for the same link, it does nothing. */
  disconnect(device: AuthenticatedDevice, ctx: ConnectionContext, link: DeviceLink): Promise<void> {
    return this.lifecycle.disconnect(device, ctx, link);
  }

  /**
   * Stores what a device published, durably, before resolving. `as` publishes for another
   * identity (a gateway device, `$as/<identity>/<alias>`).
   */
  publish(
    device: AuthenticatedDevice,
    ctx: ConnectionContext,
    content: PublishContent,
    payloadBytes: number,
    as?: string,
  ): Promise<void> {
    return new Promise((resolve, reject) =>
      this.publishThen(device, ctx, content, payloadBytes, as, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }

  /** `publish` for the MQTT hot path: `done` is called once it is stored or refused (device-publish.ts). */
  publishThen(
    device: AuthenticatedDevice,
    ctx: ConnectionContext,
    content: PublishContent,
    payloadBytes: number,
    as: string | undefined,
    done: PublishDone,
  ): void {
    this.publishing++;
    new DevicePublish(
      this.publishDeps,
      device,
      ctx,
      content,
      payloadBytes,
      as ?? device.identity,
      done,
    ).run();
  }

  /**
   * Resolves once no publish or connect is under way: at stop, once the listeners are closed, so
   * that the data_in of a publish whose write was still committing, or the disconnect of a connect
   * cut short, reaches the event consumers before they stop (its data is stored either way).
   */
  settled(): Promise<void> {
    if (this.publishing === 0) return Promise.resolve();
    return new Promise((resolve) => this.whenSettled.push(resolve));
  }

  /**
   * Server time for a publish, strictly increasing: samples are keyed by time, so two publishes in
   * the same microsecond must not share a timestamp (the second would replace the first).
   */
  private stamp(): number {
    // The publishes parsed from one socket read arrive together, and read the clock once: that
    // saves ~0.2 µs per MQTT message, a tenth of the gateway's own work per message. The reading
    // is dropped when the current task's microtasks run, so it is never older than that task.
    if (this.taskTime === undefined) {
      this.taskTime = this.deps.clock.nowMicros();
      queueMicrotask(this.dropTaskTime);
    }
    this.lastStamp = this.taskTime > this.lastStamp ? this.taskTime : this.lastStamp + 1;
    return this.lastStamp;
  }

  /** `permission.gateway` lets a device publish as anyone; an identity's `publish_as` names whom. */
  private async checkPublishAs(device: AuthenticatedDevice, target: string): Promise<void> {
    const settings = await this.deps.settings.get();
    if (settings.permission.gateway.includes(device.identity)) return;
    // Not the session's copy: a permission withdrawn through the API (which clears the credential
    // cache) applies to the next publish.
    const current = await this.deps.devices.byIdentity(device.identity);
    const allowed = current?.permission.publish_as?.identities;
    if (allowed && (allowed.includes(target) || allowed.includes('*'))) return;
    throw forbidden('forbidden_topic', `identity "${device.identity}" may not publish as "${target}"`);
  }

  /**
   * Contact without data (an HTTP read): lastseen and lastip move, online does not, since only a
   * connection that stays open (MQTT) makes a device online.
   */
  async seen(device: AuthenticatedDevice, ctx: ConnectionContext): Promise<void> {
    const at = this.deps.clock.nowMicros();
    await this.deps.identities.markSeen(device.identity, { at, ip: ctx.ip ?? undefined });
  }

  /** The set values of the given aliases (HTTP read); aliases without one are left out. */
  readSet(identity: string, aliases: string[]): Promise<Record<string, ResourceValue>> {
    return readSetValues(this.deps.identities, identity, aliases);
  }

  /**
   * HTTP long-poll: the set value of `alias` once it is newer than `sinceMicros`, waiting up to
   * `timeoutMs` for setIdentityState to change it; undefined on timeout, or when the identity was
   * locked or given a new key since `closeMark` (taken before authenticating the request).
   */
  waitForSet(
    identity: string,
    alias: string,
    sinceMicros: number,
    timeoutMs: number,
    signal?: AbortSignal,
    closeMark?: number,
  ): Promise<SetValue | undefined> {
    return waitForSetValue(this.deps, { identity, alias, sinceMicros, timeoutMs, signal, closeMark });
  }

  /** The number of device connections open in this process. */
  connectedCount(): number {
    return this.deps.connections.count();
  }

  /** The number of devices with a connection open in this process. */
  connectedDevices(): number {
    return this.deps.connections.connectedDevices();
  }
}
