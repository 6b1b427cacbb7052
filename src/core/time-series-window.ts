import { GatewayError, invalidParameter } from './errors.js';
import { IdentityString } from './schemas/common.js';
import type { ResourceValue } from './schemas/common.js';

/** µs per unit of each `epoch`. */
export const EPOCH_UNIT = { s: 1_000_000, ms: 1_000, us: 1 } as const;
export type Epoch = keyof typeof EPOCH_UNIT;

const WEEK_MICROS = 7 * 86_400_000_000;

export interface WindowParams {
  start_time?: number;
  end_time?: number;
  limit?: number;
  page?: number;
  epoch?: Epoch;
  group?: boolean;
}

/** The normalised time window and paging of a query; from/to in µs. */
export interface Window {
  from: number;
  to: number;
  epoch: Epoch;
  limit: number;
  page: number;
  offset: number;
  group: boolean;
  /** A µs time in the unit of epoch (whole units, rounded down). */
  time(micros: number): number;
}

/**
 * start_time/end_time are seconds, kept down to the precision of epoch; by default the window is the
 * last 7 days. A window that ends before it starts is refused naming end_time.
 */
export function queryWindow(params: WindowParams, nowMicros: number): Window {
  const epoch = params.epoch ?? 'us';
  const unit = EPOCH_UNIT[epoch];
  const micros = (seconds: number) => Math.floor(Math.round(seconds * 1e6) / unit) * unit;
  const to = params.end_time === undefined ? nowMicros : micros(params.end_time);
  const from = params.start_time === undefined ? to - WEEK_MICROS : micros(params.start_time);
  if (to < from) {
    const end = params.end_time === undefined ? 'now' : String(params.end_time);
    throw invalidParameter('end_time', `${end} is before start_time ${params.start_time}`);
  }
  const limit = params.limit ?? 1000;
  const page = params.page ?? 1;
  return {
    from,
    to,
    epoch,
    limit,
    page,
    // Beyond 2^53 the offset is past any data anyway.
    offset: Math.min((page - 1) * limit, Number.MAX_SAFE_INTEGER),
    group: params.group ?? false,
    time: (us) => Math.floor(us / unit),
  };
}

/** The window as the answer's `q` echoes it. */
export function echoWindow(window: Window) {
  return {
    start_time: window.time(window.from),
    end_time: window.time(window.to),
    epoch: window.epoch,
    limit: window.limit,
    page: window.page,
    group: window.group,
  };
}

const IDENTITY = new RegExp(IdentityString.pattern!);

/** A comma-separated identities list: trimmed, without repeats; an empty or malformed entry is refused. */
export function identityList(text: string, parameter: string): string[] {
  const identities = new Set<string>();
  for (const raw of text.split(',')) {
    const identity = raw.trim();
    if (identity === '') throw invalidParameter(parameter, 'has an empty entry');
    if (identity.length > 128 || !IDENTITY.test(identity))
      throw invalidParameter(parameter, `"${identity}" is not an identity`);
    identities.add(identity);
  }
  if (identities.size > 1000) throw invalidParameter(parameter, 'lists more than 1000 identities');
  return [...identities];
}

export function notFound(parameter: string, message: string): GatewayError {
  return new GatewayError('NOT_FOUND', `parameter "${parameter}": ${message}`, { parameter });
}

/** Samples keep booleans as 1/0: values of boolean resources become booleans again. */
export function restoreValue(value: ResourceValue, boolean: boolean): ResourceValue {
  return boolean && typeof value === 'number' ? value !== 0 : value;
}

type Group<K extends string, T> = {
  id: string;
  identity: string;
  values: Omit<T, 'identity' | K>[];
} & Record<K, string>;

/** Items grouped by series, in the order of their first item. */
export function groupBySeries<
  K extends 'resource' | 'signal',
  T extends { identity: string } & Record<K, string>,
>(items: T[], key: K): Group<K, T>[] {
  const groups = new Map<string, Group<K, T>>();
  for (const item of items) {
    const { identity, [key]: name, ...rest } = item;
    const id = `${identity}/${name}`;
    let group = groups.get(id);
    if (!group) {
      group = { id, identity, [key]: name, values: [] } as unknown as Group<K, T>;
      groups.set(id, group);
    }
    group.values.push(rest);
  }
  return [...groups.values()];
}
