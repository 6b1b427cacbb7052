import { invalidParameter } from './errors.js';
import type { ResourceValue } from './schemas/common.js';
import type { ResourceDefinition, ResourceFormat } from './schemas/resource.js';

export const MAX_STRING_VALUE_BYTES = 65536;
const RANGE = /^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$/;
/** Decimal notation only: `Number()` alone would also take "0x1F", "0b11" and "Infinity". */
const DECIMAL = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

function parseRange(rule: string): [number, number] | undefined {
  const match = RANGE.exec(rule);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** Checks one `allowed` rule against the resource format when the definition is written. */
export function checkAllowedRule(rule: ResourceValue, format: ResourceFormat, parameter: string): void {
  const range = format === 'number' && typeof rule === 'string' ? parseRange(rule) : undefined;
  const ok =
    format === 'number'
      ? (typeof rule === 'number' && Number.isFinite(rule)) || range !== undefined
      : typeof rule === format;
  if (!ok) {
    const expected = format === 'number' ? 'a number or a "low-high" range string' : `a ${format}`;
    throw invalidParameter(parameter, `must be ${expected} for a ${format} resource`);
  }
  // An inverted range would silently allow nothing.
  if (range && range[0] > range[1]) {
    throw invalidParameter(parameter, `the range ${JSON.stringify(rule)} starts above its end`);
  }
}

function allows(rule: ResourceValue, value: ResourceValue): boolean {
  if (rule === value) return true;
  if (typeof rule === 'string' && typeof value === 'number') {
    const range = parseRange(rule);
    return range !== undefined && value >= range[0] && value <= range[1];
  }
  return false;
}

/**
 * Checks a value against a resource definition (format, size, allowed rules) and returns it in
 * the resource's format. Devices publish text, so "12.5" for a number resource and "true" for a
 * boolean one are converted; anything else that does not fit is refused naming `parameter`.
 */
export function conformValue(
  definition: ResourceDefinition,
  value: ResourceValue,
  parameter: string,
): ResourceValue {
  const converted = convert(definition.format, value, parameter);
  if (
    definition.allowed &&
    definition.allowed.length > 0 &&
    !definition.allowed.some((r) => allows(r, converted))
  ) {
    throw invalidParameter(
      parameter,
      `value ${preview(converted)} is not allowed by the resource definition`,
    );
  }
  return converted;
}

/** Keeps error messages short when the refused value is a long string. */
function preview(value: ResourceValue): string {
  const text = JSON.stringify(value);
  return text.length > 64 ? `${text.slice(0, 60)}…"` : text;
}

function convert(format: ResourceFormat, value: ResourceValue, parameter: string): ResourceValue {
  switch (format) {
    case 'string': {
      const text = typeof value === 'string' ? value : String(value);
      if (Buffer.byteLength(text, 'utf8') > MAX_STRING_VALUE_BYTES) {
        throw invalidParameter(parameter, `string values are limited to ${MAX_STRING_VALUE_BYTES} bytes`);
      }
      return text;
    }
    case 'number': {
      const number =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && DECIMAL.test(value)
            ? Number(value)
            : NaN;
      if (!Number.isFinite(number)) throw invalidParameter(parameter, 'must be a number');
      return number;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 1 || value === '1') return true;
      if (value === 'false' || value === 0 || value === '0') return false;
      throw invalidParameter(parameter, 'must be true or false');
    }
  }
}
