/** Time source of the core, in microseconds since the epoch (the unit of every Device2 timestamp). */
export interface Clock {
  nowMicros(): number;
}

export const systemClock: Clock = {
  nowMicros: () => Math.round((performance.timeOrigin + performance.now()) * 1000),
};

/**
 * Client-supplied timestamps may come in seconds, milliseconds or microseconds (CONTRACT §2):
 * below 1e11 is seconds, below 1e14 milliseconds, otherwise microseconds.
 */
export function toMicros(timestamp: number): number {
  if (timestamp < 1e11) return Math.round(timestamp * 1e6);
  if (timestamp < 1e14) return Math.round(timestamp * 1e3);
  return Math.round(timestamp);
}
