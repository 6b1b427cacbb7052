import type { Sample, SignalDeclaration } from './device-ports.js';
import { toResourceValue } from './publish-values.js';
import type { ResourceValue } from './schemas/common.js';
import type { ResourceDefinition } from './schemas/resource.js';
import type { GatewaySettings } from './schemas/settings.js';
import type { TimeSeriesStore } from './time-series-ports.js';

/** The two resources the parser reads (ExoSense's channel conventions, device-protocols §3). */
export type ParsedResource = 'config_io' | 'data_in';

/** A value of config_io or data_in as a publish carries it (already checked against its definition). */
export interface ParserInput {
  resource: ParsedResource;
  value: ResourceValue;
  /** µs: the sample time of the value, and of the channel samples taken from it. */
  timestamp: number;
}

/** What the parser adds to a device write. */
export interface ParsedSignals {
  signals: SignalDeclaration[];
  samples: Sample[];
}

/**
 * Why the parser left something out. `undefined_channel`: a data_in value of a channel no config_io
 * defined; `invalid_data_in`: a data_in that is not a JSON object; `invalid_config_io`: a config_io
 * that is not JSON or has no `channels` object; `invalid_channel`: a channel whose id cannot be a
 * signal or whose entry is not an object; `channel_is_resource`: a channel named like a resource.
 */
export type ParserSkip =
  'undefined_channel' | 'invalid_data_in' | 'invalid_config_io' | 'invalid_channel' | 'channel_is_resource';

/** Where the parser says what it left out: the gateway logs it and counts it (Prometheus). */
export interface SignalParserReport {
  skipped(identity: string, reason: ParserSkip, count: number, detail: string): void;
}

/** The ids a signal may have: the alias rules (they travel as MQTT topic levels). */
// eslint-disable-next-line no-control-regex
const CHANNEL_ID = /^(?!__proto__$)[^.$/+#\u0000-\u001f\u007f]{1,128}$/;
/** Not a channel: ExoSense's optional error report inside data_in (device-protocols §3.3). */
const ERROR_KEY = '__error';
/** Identities whose channels are kept in memory; beyond, the oldest are read again when needed. */
const DEFAULT_CACHED_IDENTITIES = 100_000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseObject(value: ResourceValue): Record<string, unknown> | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The signal parser (setting `enable_signal_parser`): a config_io defines one signal per channel
 * (signal = channel id, resource = data_in, metadata = the channel's entry); a data_in object stores
 * each value of a defined channel as a sample of its signal. Signals are never removed: a config_io
 * with other channels adds signals and keeps the old ones. The channels of each identity are kept in
 * memory, so a data_in costs no read once its identity is known.
 */
export class SignalParser {
  /** identity -> its data_in channels. */
  private readonly channels = new Map<string, Set<string>>();

  constructor(
    private readonly deps: {
      settings: { get(): Promise<GatewaySettings> };
      series: Pick<TimeSeriesStore, 'signals'>;
      report: SignalParserReport;
      maxCachedIdentities?: number;
    },
  ) {}

  /** Whether a value of this resource is for the parser: a check cheap enough for every value. */
  static reads(alias: string): alias is ParsedResource {
    return alias === 'data_in' || alias === 'config_io';
  }

  /** The signals and samples the inputs define; undefined when the parser is off. */
  async parse(
    identity: string,
    inputs: ParserInput[],
    definitions: Record<string, ResourceDefinition>,
  ): Promise<ParsedSignals | undefined> {
    if (!(await this.deps.settings.get()).enable_signal_parser) return undefined;
    const parsed: ParsedSignals = { signals: [], samples: [] };
    let known = this.channels.get(identity);
    for (const input of inputs) {
      if (input.resource === 'config_io') {
        // Read afresh: whether a channel would clash with a signal of another resource.
        const existing = await this.deps.series.signals(identity);
        known = this.remember(
          identity,
          existing.filter((s) => s.resource === 'data_in').map((s) => s.signal),
        );
        const others = new Set(existing.filter((s) => s.resource !== 'data_in').map((s) => s.signal));
        this.configIo(identity, input.value, definitions, others, known, parsed);
      } else {
        known ??= await this.load(identity);
        this.dataIn(identity, input, definitions, known, parsed);
      }
    }
    return parsed;
  }

  /** The write did not happen (an identity gone, a failed commit): channels are read again. */
  forget(identity: string): void {
    this.channels.delete(identity);
  }

  private configIo(
    identity: string,
    value: ResourceValue,
    definitions: Record<string, ResourceDefinition>,
    others: Set<string>,
    known: Set<string>,
    parsed: ParsedSignals,
  ): void {
    const config = parseObject(value);
    const channels = config?.channels;
    if (!isObject(channels)) {
      const problem = config ? 'has no "channels" object' : 'is not a JSON object';
      return this.deps.report.skipped(identity, 'invalid_config_io', 1, `config_io ${problem}`);
    }
    for (const id of Object.keys(channels)) {
      const entry = channels[id];
      if (!CHANNEL_ID.test(id) || !isObject(entry)) {
        const problem = isObject(entry) ? 'cannot be a signal name' : 'is not an object';
        this.deps.report.skipped(identity, 'invalid_channel', 1, `channel "${id}" ${problem}`);
        continue;
      }
      if (Object.hasOwn(definitions, id) || others.has(id)) {
        this.deps.report.skipped(
          identity,
          'channel_is_resource',
          1,
          `channel "${id}" has the name of a resource's signal`,
        );
        continue;
      }
      // Each config_io restates its channels: their metadata is replaced by the newest entry.
      parsed.signals.push({ signal: id, resource: 'data_in', metadata: JSON.stringify(entry) });
      known.add(id);
    }
  }

  private dataIn(
    identity: string,
    input: ParserInput,
    definitions: Record<string, ResourceDefinition>,
    known: Set<string>,
    parsed: ParsedSignals,
  ): void {
    const values = parseObject(input.value);
    if (!values)
      return this.deps.report.skipped(identity, 'invalid_data_in', 1, 'data_in is not a JSON object');
    const retention = Number(definitions.data_in?.retention ?? '12');
    const undefinedChannels: string[] = [];
    for (const id of Object.keys(values)) {
      if (id === ERROR_KEY) continue;
      if (!known.has(id)) {
        undefinedChannels.push(id);
        continue;
      }
      parsed.samples.push({
        signal: id,
        resource: 'data_in',
        retention,
        timestamp: input.timestamp,
        value: toResourceValue(values[id]),
      });
    }
    if (undefinedChannels.length > 0)
      this.deps.report.skipped(
        identity,
        'undefined_channel',
        undefinedChannels.length,
        `no config_io defined channel ${undefinedChannels.map((c) => `"${c}"`).join(', ')}`,
      );
  }

  private async load(identity: string): Promise<Set<string>> {
    const signals = await this.deps.series.signals(identity);
    // Another parse may have filled it meanwhile, with channels not committed yet: keep those.
    const current = this.channels.get(identity);
    if (current) return current;
    return this.remember(
      identity,
      signals.filter((s) => s.resource === 'data_in').map((s) => s.signal),
    );
  }

  private remember(identity: string, channels: string[]): Set<string> {
    const set = this.channels.get(identity) ?? new Set<string>();
    for (const channel of channels) set.add(channel);
    this.channels.delete(identity);
    this.channels.set(identity, set);
    const max = this.deps.maxCachedIdentities ?? DEFAULT_CACHED_IDENTITIES;
    if (this.channels.size > max) this.channels.delete(this.channels.keys().next().value!);
    return set;
  }
}
