import type { AuthenticatedDevice, ConnectionContext } from './device-auth.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { DeviceWrite, IngestStore, Sample, WriteOutcome } from './device-ports.js';
import { GatewayError, identityNotFound } from './errors.js';
import type { EventPublisher } from './events.js';
import {
  collectValues,
  isRecords,
  newestPerResource,
  type CollectedValues,
  type PublishContent,
} from './publish-values.js';
import type { ResourceCatalog } from './resource-catalog.js';
import type { ResourceDefinition } from './schemas/resource.js';
import type { ParsedSignals, SignalParser } from './signal-parser.js';

/** Told once a publish is stored (no error) or refused; called exactly once. */
export type PublishDone = (error?: Error) => void;

export interface DevicePublishDeps {
  ingest: IngestStore;
  resources: ResourceCatalog;
  events: EventPublisher;
  activity: DeviceMetricsRecorder;
  signalParser?: Pick<SignalParser, 'parse' | 'forget'>;
  onCommitted?: (identity: string, samples: Sample[]) => void;
  /** Server time for the publish (µs), strictly increasing. */
  stamp(): number;
  /** Checks that `device` may publish as `identity` (`$as/<identity>/…`), refusing otherwise. */
  checkPublishAs(device: AuthenticatedDevice, identity: string): Promise<void>;
  /** Told when the publish is over, just before `done`. */
  ended(): void;
}

/**
 * One device publish on its way from the edge to the store: checked, written, then told
 * (`data_in`, metrics) and answered. Steps call each other rather than awaiting: this runs over
 * 100,000 times a second, and each promise layer between the commit and the PUBACK is more
 * objects held until the commit and more microtasks. Only the rare steps (publishing as another
 * identity, definitions not loaded yet, the signal parser, a kept event) go through promises.
 */
export class DevicePublish {
  private collected: CollectedValues | undefined;
  private now = 0;
  private listened = false;

  constructor(
    private readonly deps: DevicePublishDeps,
    private readonly device: AuthenticatedDevice,
    private readonly ctx: ConnectionContext,
    private readonly content: PublishContent,
    private readonly payloadBytes: number,
    private readonly identity: string,
    private readonly done: PublishDone,
  ) {}

  run(): void {
    const { identity, device, deps } = this;
    let definitions;
    try {
      definitions = identity === device.identity ? deps.resources.current() : undefined;
    } catch (error) {
      return this.fail(error);
    }
    if (definitions) return this.collect(definitions);
    const ready = async () => {
      if (identity !== device.identity) await deps.checkPublishAs(device, identity);
      return deps.resources.current() ?? (await deps.resources.list());
    };
    ready().then(
      (loaded) => this.collect(loaded),
      (error: unknown) => this.fail(error),
    );
  }

  private collect(definitions: Record<string, ResourceDefinition>): void {
    const { deps } = this;
    let collected: CollectedValues;
    try {
      this.now = deps.stamp();
      // This is the hot path: the event's objects are only built when someone listens.
      this.listened = deps.events.listened?.() ?? true;
      collected = this.collected = collectValues(this.content, definitions, this.now, this.listened);
    } catch (error) {
      return this.fail(error);
    }
    const { parserInputs } = collected;
    if (!parserInputs || !deps.signalParser) return this.write(undefined);
    deps.signalParser.parse(this.identity, parserInputs, definitions).then(
      (parsed) => this.write(parsed),
      (error: unknown) => this.fail(error),
    );
  }

  private write(parsed: ParsedSignals | undefined): void {
    try {
      const { samples, state } = this.collected!;
      if (parsed) samples.push(...parsed.samples);
      const write: DeviceWrite = {
        identity: this.identity,
        samples,
        // Several records may write one resource: its state is the newest of them.
        state: isRecords(this.content) && this.content.length > 1 ? newestPerResource(state) : state,
        seen: { at: this.now, ip: this.ctx.ip },
      };
      if (parsed && parsed.signals.length > 0) write.signals = parsed.signals;
      this.deps.ingest.write(write, (outcome) => this.committed(outcome));
    } catch (error) {
      this.fail(error);
    }
  }

  private committed(outcome: WriteOutcome): void {
    let kept: Promise<void> | undefined;
    try {
      if (outcome instanceof Error) throw outcome;
      if (!outcome) throw identityNotFound(this.identity);
      kept = this.tell(outcome);
    } catch (error) {
      return this.fail(error);
    }
    // At least once: the publish is acknowledged only once its data_in is stored for delivery.
    if (!kept) return this.end();
    kept.then(
      () => this.end(),
      (error: unknown) => this.fail(error),
    );
  }

  /** The publish is stored: its subscribers, its data_in and its metrics are told. */
  private tell(written: Exclude<WriteOutcome, Error | false>): Promise<void> | undefined {
    const { deps, identity, ctx, now, listened } = this;
    const { samples, state, payload, valueCount } = this.collected!;
    deps.onCommitted?.(identity, samples);
    if (listened) {
      // Only what became the identity's state: a recorded value older than the state is not.
      const updated = new Set<string>();
      for (const { resource } of state)
        if (written === true || !written.kept.includes(resource)) updated.add(resource);
      deps.events.publish({
        type: 'data_in',
        identity,
        ip: ctx.ip,
        protocol: ctx.protocol,
        timestamp: now,
        connection_id: ctx.connectionId,
        payload,
        updated_resources: [...updated],
      });
    }
    deps.activity.recordPublish(identity, this.payloadBytes, valueCount, now);
    return listened ? deps.events.kept?.() : undefined;
  }

  private fail(error: unknown): void {
    const { deps, identity } = this;
    try {
      // Channels it added in memory may not have been written.
      if (this.collected?.parserInputs) deps.signalParser?.forget(identity);
      deps.activity.record('connection_error', identity, 1, refusalReason(error));
    } finally {
      this.end(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private end(error?: Error): void {
    this.deps.ended();
    this.done(error);
  }
}

function refusalReason(error: unknown): string {
  if (!(error instanceof GatewayError)) return 'internal_error';
  if (error.reason) return error.reason;
  return error.code === 'INVALID_PARAMETER' ? 'invalid_value' : error.code.toLowerCase();
}
