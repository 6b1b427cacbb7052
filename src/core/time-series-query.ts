import type { Clock } from './clock.js';
import type { IdentityStore } from './ports.js';
import type { ResourceCatalog } from './resource-catalog.js';
import type { ResourceValue } from './schemas/common.js';
import type { ResourceDefinition } from './schemas/resource.js';
import type {
  AggrQueryResourceParams,
  AggrQuerySignalParams,
  AggrQuerySignalsParams,
  AggregateField,
  LatestSignalsSearchParams,
  LatestSignalsSearchResult,
  QueryResourceParams,
  QuerySignalParams,
  QuerySignalsParams,
} from './schemas/time-series.js';
import type { BucketWidth, SignalRecord, TimeSeriesStore } from './time-series-ports.js';
import {
  echoWindow,
  groupBySeries,
  identityList,
  notFound,
  queryWindow,
  restoreValue,
  type Window,
} from './time-series-window.js';

const WIDTHS: Record<'1m' | '5m' | '1h', BucketWidth> = { '1m': 60, '5m': 300, '1h': 3600 };
const ALL_FIELDS: AggregateField[] = ['count', 'max', 'min', 'sum'];

/** What a query reads: which series, and which of their values are booleans stored as 1/0. */
interface Target {
  identities: string[];
  signals: string[];
  /** Signals whose samples are booleans. */
  booleans: Set<string>;
}

type Key = 'resource' | 'signal';
type SampleItem = {
  identity: string;
  reported_time: number;
  server_time: number;
  value: ResourceValue;
} & Record<Key, string>;

const isBoolean = (definitions: Record<string, ResourceDefinition>, record: SignalRecord) =>
  record.signal === record.resource && definitions[record.resource]?.format === 'boolean';

/** `2024-07-29T07:40:00.123456Z`: UTC with six fraction digits. */
export function isoMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  return `${new Date(millis).toISOString().slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/** The data-query operations (queryResource … latestSignalsSearch) over the TimeSeriesStore. */
export class TimeSeriesQueries {
  constructor(
    private readonly deps: {
      series: TimeSeriesStore;
      identities: IdentityStore;
      resources: ResourceCatalog;
      clock: Clock;
    },
  ) {}

  /** A defined resource's signal of the given identities (all that have data of it, by default). */
  private async resourceTarget(params: {
    resource: string;
    identities?: string | undefined;
  }): Promise<Target> {
    const definitions = await this.deps.resources.list();
    const definition = Object.hasOwn(definitions, params.resource) ? definitions[params.resource] : undefined;
    if (!definition) throw notFound('resource', `resource "${params.resource}" is not defined`);
    let identities: string[];
    if (params.identities === undefined) {
      identities = await this.deps.series.identitiesWithSignal(params.resource);
    } else {
      identities = identityList(params.identities, 'identities');
      const existing = await this.deps.identities.existing(identities);
      const missing = identities.find((identity) => !existing.has(identity));
      if (missing !== undefined) throw notFound('identities', `identity "${missing}" does not exist`);
    }
    const booleans = new Set(definition.format === 'boolean' ? [params.resource] : []);
    return { identities, signals: [params.resource], booleans };
  }

  /** Signals of one identity (all of them, by default); unknown ones are 404. */
  private async signalTarget(
    identity: string,
    names: string[] | undefined,
    parameter: string,
  ): Promise<Target> {
    const unique = names && [...new Set(names)];
    const [records, definitions] = await Promise.all([
      this.deps.series.signals(identity, unique),
      this.deps.resources.list(),
    ]);
    const byName = new Map(records.map((r) => [r.signal, r]));
    const signals = unique ?? records.map((r) => r.signal);
    // A defined resource is a signal of every identity, with or without samples yet.
    if (byName.size < signals.length || signals.length === 0) {
      if ((await this.deps.identities.existing([identity])).size === 0)
        throw notFound('identity', `identity "${identity}" does not exist`);
      const missing = signals.find((name) => !byName.has(name) && !Object.hasOwn(definitions, name));
      if (missing !== undefined)
        throw notFound(parameter, `identity "${identity}" has no signal "${missing}"`);
    }
    const booleans = signals.filter((name) => {
      const record = byName.get(name);
      return record ? isBoolean(definitions, record) : definitions[name]?.format === 'boolean';
    });
    return { identities: [identity], signals, booleans: new Set(booleans) };
  }

  private async raw<K extends Key>(
    key: K,
    target: Target,
    params: QuerySignalParams | QuerySignalsParams | QueryResourceParams,
  ) {
    const window = queryWindow(params, this.deps.clock.nowMicros());
    const sort = params.sort ?? 'report';
    const order = params.order ?? 'desc';
    const rows = await this.deps.series.raw({
      identities: target.identities,
      signals: target.signals,
      from: window.from,
      to: window.to,
      sortBy: sort,
      descending: order === 'desc',
      limit: window.limit,
      offset: window.offset,
    });
    const items = rows.map(
      (row) =>
        ({
          identity: row.identity,
          [key]: row.signal,
          reported_time: window.time(row.timestamp),
          server_time: window.time(row.receivedAt),
          value: restoreValue(row.value, target.booleans.has(row.signal)),
        }) as SampleItem,
    );
    return {
      q: { ...this.echo(key, target), ...echoWindow(window), sort, order },
      data: window.group ? groupBySeries(items, key) : items,
    };
  }

  private async aggregate<K extends Key>(
    key: K,
    target: Target,
    params: AggrQuerySignalParams | AggrQuerySignalsParams | AggrQueryResourceParams,
  ) {
    const window: Window = queryWindow(params, this.deps.clock.nowMicros());
    const bucket = params.bucket ?? '1h';
    const fields = params.fields ?? ALL_FIELDS;
    const rows = await this.deps.series.rollups({
      identities: target.identities,
      signals: target.signals,
      width: WIDTHS[bucket],
      from: window.from,
      to: window.to,
      limit: window.limit,
      offset: window.offset,
    });
    const items = rows.map((row) => {
      const item: Record<string, unknown> = {
        identity: row.identity,
        [key]: row.signal,
        time: window.time(row.bucket),
      };
      for (const field of fields) item[field] = row[field];
      return item as { identity: string; time: number } & Record<K, string>;
    });
    return {
      q: { ...this.echo(key, target), ...echoWindow(window), bucket, fields },
      data: window.group ? groupBySeries(items, key) : items,
    };
  }

  private echo(key: Key, target: Target) {
    return key === 'resource'
      ? { identities: target.identities, resource: target.signals[0]! }
      : { identities: target.identities, signals: target.signals };
  }

  async queryResource(params: QueryResourceParams) {
    return this.raw('resource', await this.resourceTarget(params), params);
  }

  async querySignal(params: QuerySignalParams) {
    return this.raw('signal', await this.signalTarget(params.identity, [params.signal], 'signal'), params);
  }

  async querySignals(params: QuerySignalsParams) {
    return this.raw('signal', await this.signalTarget(params.identity, params.signals, 'signals'), params);
  }

  async aggrqueryResource(params: AggrQueryResourceParams) {
    return this.aggregate('resource', await this.resourceTarget(params), params);
  }

  async aggrquerySignal(params: AggrQuerySignalParams) {
    return this.aggregate(
      'signal',
      await this.signalTarget(params.identity, [params.signal], 'signal'),
      params,
    );
  }

  async aggrquerySignals(params: AggrQuerySignalsParams) {
    return this.aggregate(
      'signal',
      await this.signalTarget(params.identity, params.signals, 'signals'),
      params,
    );
  }

  async latestSignalsSearch(params: LatestSignalsSearchParams): Promise<LatestSignalsSearchResult> {
    const page = params.page ?? 1;
    const limit = params.limit ?? 100;
    const reverse = params.reverse ?? false;
    const sortKey = params.sort_key ?? 'identity';
    const [{ rows, total }, definitions] = await Promise.all([
      this.deps.series.latest({
        ...(params.identities && { identities: params.identities }),
        ...(params.signals && { signals: params.signals }),
        sortKey,
        reverse,
        limit,
        offset: Math.min((page - 1) * limit, Number.MAX_SAFE_INTEGER),
      }),
      this.deps.resources.list(),
    ]);
    return {
      q: {
        page,
        limit,
        reverse,
        sort_key: sortKey,
        ...(params.signals && { signals: params.signals }),
        ...(params.identities && { identities: params.identities }),
      },
      data: rows.map((r) => ({
        identity: r.identity,
        resource: r.resource,
        signal_id: `${r.identity}/${r.signal}`,
        signal_name: r.signal,
        last_value:
          r.lastValue === null ? null : String(restoreValue(r.lastValue, isBoolean(definitions, r))),
        last_insert: r.lastInsert === null ? null : isoMicros(r.lastInsert),
        last_update: r.lastUpdate === null ? null : isoMicros(r.lastUpdate),
      })),
      total,
    };
  }
}
