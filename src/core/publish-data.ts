import { toMicros, type Clock } from './clock.js';
import type { IngestStore, Sample, WriteResult } from './device-ports.js';
import {
  addResourceValue,
  checkTimestamp,
  newestPerResource,
  toResourceValue,
  type ValueSink,
} from './publish-values.js';
import { GatewayError, identityNotFound, invalidParameter } from './errors.js';
import type { IdentityStore } from './ports.js';
import type { ResourceCatalog } from './resource-catalog.js';
import { conformValue, MAX_STRING_VALUE_BYTES } from './resource-values.js';
import type { ResourceValue } from './schemas/common.js';
import type { PublishDataParams } from './schemas/time-series.js';
import type { SignalParser } from './signal-parser.js';
import type { SignalRecord, TimeSeriesStore } from './time-series-ports.js';
import { writeDurably } from './write-durably.js';

/** The same error naming the parameter where the caller wrote it. */
function at(parameter: string, error: unknown): unknown {
  if (!(error instanceof GatewayError) || error.code !== 'INVALID_PARAMETER') return error;
  const problem = error.message.replace(/^parameter "[^"]*": /, '');
  return invalidParameter(parameter, problem);
}

/**
 * publishData: a batch of history written straight to the store, through the same group commit as
 * device data. Each value must belong to a defined resource (checked against its definition) or to
 * a signal the identity already has (a signal parser channel). The newest value of each resource
 * becomes its reported and set state unless the stored state is newer, as for a device batch. It is
 * not device traffic: no data_in event, no device metrics, lastseen unchanged (docs/time-series.md).
 */
export class PublishData {
  constructor(
    private readonly deps: {
      ingest: IngestStore;
      identities: IdentityStore;
      series: TimeSeriesStore;
      resources: ResourceCatalog;
      clock: Clock;
      /** config_io and data_in values become signals and their samples (enable_signal_parser). */
      signalParser?: Pick<SignalParser, 'parse' | 'forget'>;
      /** Told of the samples of every committed write (signal subscribers). */
      onCommitted?: (identity: string, samples: Sample[]) => void;
    },
  ) {}

  async publish({ identity, payload }: PublishDataParams): Promise<void> {
    const { ingest, identities, series, resources, clock } = this.deps;
    if ((await identities.existing([identity])).size === 0) throw identityNotFound(identity);
    const definitions = await resources.list();
    const now = clock.nowMicros();
    let channels: Map<string, SignalRecord> | undefined;
    const sink: ValueSink = { samples: [], state: [], parserInputs: undefined };
    const { samples, state } = sink;
    for (let i = 0; i < payload.length; i++) {
      const record = payload[i]!;
      let timestamp: number;
      try {
        timestamp = checkTimestamp(toMicros(record.timestamp), now);
      } catch (error) {
        throw at(`payload[${i}].timestamp`, error);
      }
      for (const name of Object.keys(record.values)) {
        const parameter = `payload[${i}].values.${name}`;
        const raw = toResourceValue(record.values[name]);
        const definition = Object.hasOwn(definitions, name) ? definitions[name] : undefined;
        if (definition) {
          let value: ResourceValue;
          try {
            value = conformValue(definition, raw, name);
          } catch (error) {
            throw at(parameter, error);
          }
          addResourceValue(sink, name, definition, value, timestamp);
          continue;
        }
        channels ??= new Map((await series.signals(identity)).map((s) => [s.signal, s]));
        const channel = channels.get(name);
        if (!channel)
          throw invalidParameter(parameter, 'is neither a defined resource nor a signal of the identity');
        if (typeof raw === 'string' && Buffer.byteLength(raw) > MAX_STRING_VALUE_BYTES)
          throw invalidParameter(parameter, `values are limited to ${MAX_STRING_VALUE_BYTES} bytes`);
        const carrier = Object.hasOwn(definitions, channel.resource)
          ? definitions[channel.resource]
          : undefined;
        samples.push({
          signal: name,
          resource: channel.resource,
          retention: Number(carrier?.retention ?? '12'),
          timestamp,
          value: raw,
        });
      }
    }
    const { parserInputs } = sink;
    const parsed = parserInputs && (await this.deps.signalParser?.parse(identity, parserInputs, definitions));
    if (parsed) samples.push(...parsed.samples);
    if (samples.length === 0) return;
    let written: WriteResult = false;
    try {
      written = await writeDurably(ingest, {
        identity,
        samples,
        ...(parsed && parsed.signals.length > 0 && { signals: parsed.signals }),
        state: newestPerResource(state),
        seen: { at: now, ip: null, contact: false },
      });
    } finally {
      // Channels the parser added in memory may not have been written.
      if (!written && parserInputs) this.deps.signalParser?.forget(identity);
    }
    if (!written) throw identityNotFound(identity);
    this.deps.onCommitted?.(identity, samples);
  }
}
