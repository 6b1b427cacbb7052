/** Time source of the core, in microseconds since the epoch (the unit of every Device2 timestamp). */
export interface Clock {
  nowMicros(): number;
}

/** How far the fine clock may part from the wall clock before it is set again, in µs. */
const MAX_DRIFT_MICROS = 5_000;

/**
 * Microseconds from the monotonic clock, anchored to the wall clock. The monotonic clock stops
 * while the host sleeps and is not disciplined by NTP, so on its own it falls behind real time
 * over days of uptime; it is re-anchored whenever the two part by more than a few ms.
 */
export function createSystemClock(
  wallMillis: () => number = Date.now,
  monotonicMillis: () => number = () => performance.now(),
): Clock {
  let origin = wallMillis() - monotonicMillis();
  return {
    nowMicros() {
      const fine = (origin + monotonicMillis()) * 1000;
      const wall = wallMillis() * 1000;
      if (Math.abs(fine - wall) <= MAX_DRIFT_MICROS) return Math.round(fine);
      origin = wallMillis() - monotonicMillis();
      return Math.round(wall);
    },
  };
}

export const systemClock: Clock = createSystemClock();

/**
 * Client-supplied timestamps may come in seconds, milliseconds or microseconds (CONTRACT §2):
 * below 1e11 is seconds, below 1e14 milliseconds, otherwise microseconds.
 */
export function toMicros(timestamp: number): number {
  if (timestamp < 1e11) return Math.round(timestamp * 1e6);
  if (timestamp < 1e14) return Math.round(timestamp * 1e3);
  return Math.round(timestamp);
}
