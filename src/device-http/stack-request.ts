import { toMicros } from '../core/clock.js';
import type { PublishRecord } from '../core/device-service.js';
import { invalidParameter } from '../core/errors.js';
import type { FormPair } from './form.js';

/** Longest long-poll a device may ask for (reference: "cannot be more than 300 seconds"). */
export const MAX_REQUEST_TIMEOUT_MS = 300_000;

function checkAlias(alias: string): string {
  if (alias === '') throw invalidParameter('alias', 'an alias may not be empty');
  // Aliases become object keys on their way to storage; this one would become a prototype.
  if (alias === '__proto__') throw invalidParameter(alias, 'is not a resource alias');
  return alias;
}

/** `a=1&b=2`: the values a device writes, all with the server's time; the last of a repeat wins. */
export function writeValues(pairs: FormPair[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [alias, value] of pairs) values[checkAlias(alias)] = value;
  return values;
}

/** `?a&b`: the aliases a device reads, each once, in order. */
export function readAliases(pairs: FormPair[]): string[] {
  const aliases = new Set<string>();
  for (const [alias] of pairs) aliases.add(checkAlias(alias));
  return [...aliases];
}

const TIMESTAMP = /^\d{1,16}(?:\.\d{1,6})?$/;

/**
 * `alias=a&<ts>=<v>&<ts>=<v>&alias=b&<ts>=<v>`: values with the device's timestamps (seconds,
 * milliseconds or microseconds, CONTRACT §2). Values of one timestamp share one record.
 */
export function recordValues(pairs: FormPair[]): PublishRecord[] {
  const byTime = new Map<number, Record<string, string>>();
  let alias: string | undefined;
  for (const [name, value] of pairs) {
    if (name === 'alias') {
      alias = checkAlias(value);
      continue;
    }
    if (alias === undefined) throw invalidParameter(name, 'a timestamped value must follow alias=<alias>');
    if (!TIMESTAMP.test(name)) throw invalidParameter(name, 'is not a timestamp (unix seconds)');
    const timestamp = toMicros(Number(name));
    let values = byTime.get(timestamp);
    if (!values) byTime.set(timestamp, (values = {}));
    values[alias] = value;
  }
  return [...byTime].map(([timestamp, values]) => ({ timestamp, values }));
}

/** `Request-Timeout: <ms>`: undefined when absent (no long-poll). */
export function requestTimeout(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  const ms = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(ms <= MAX_REQUEST_TIMEOUT_MS))
    throw invalidParameter('Request-Timeout', `must be milliseconds from 0 to ${MAX_REQUEST_TIMEOUT_MS}`);
  return ms;
}

/**
 * The µs after which a set value is news to a long-polling device. `If-Modified-Since` (unix
 * seconds or an HTTP date) has second resolution, as has the `Last-Modified` the device got last
 * time and sends back: a value is news only from the next whole second on, so re-sending
 * `Last-Modified` never brings the same value again. Without the header, "now".
 */
export function sinceMicros(header: string | undefined, nowMicros: number): number {
  if (header === undefined) return nowMicros;
  const text = header.trim();
  const seconds = /^\d{1,12}$/.test(text) ? Number(text) : Math.floor(Date.parse(text) / 1000);
  if (!Number.isFinite(seconds))
    throw invalidParameter('If-Modified-Since', 'must be an HTTP date or unix seconds');
  return seconds * 1_000_000 + 999_999;
}

/** The HTTP date (second resolution) of a µs timestamp. */
export function httpDate(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toUTCString();
}
