import { invalidParameter } from './errors.js';

/**
 * Archive files hold one UTC day each, named by its ISO 8601 date (YYYY-MM-DD). These helpers
 * convert between days and µs since the epoch.
 */
export const DAY_US = 86_400_000_000;

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The first µs of a day, or undefined when the text is not a calendar date. */
export function dayStart(day: string): number | undefined {
  const match = DAY_PATTERN.exec(day);
  if (!match) return undefined;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const millis = Date.UTC(year, month - 1, date);
  const back = new Date(millis);
  // Date.UTC rolls 2023-02-30 over into March: such a day does not exist.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== date)
    return undefined;
  return millis * 1000;
}

/** The day of a µs time. */
export function dayOf(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toISOString().slice(0, 10);
}

/** A day parameter: its first µs, or a 400 naming the parameter. */
export function parseDay(day: string, parameter: string): number {
  const start = dayStart(day);
  if (start === undefined)
    throw invalidParameter(parameter, `"${day}" is not a calendar date written YYYY-MM-DD`);
  return start;
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(fromUs: number, toUs: number): string[] {
  const days: string[] = [];
  for (let at = fromUs; at <= toUs; at += DAY_US) days.push(dayOf(at));
  return days;
}
