import { describe, expect, it } from 'vitest';
import { createSystemClock, systemClock, toMicros } from './clock.js';

describe('toMicros', () => {
  it('reads timestamps below 1e11 as seconds', () => {
    expect(toMicros(0)).toBe(0);
    expect(toMicros(1_700_000_000)).toBe(1_700_000_000_000_000);
    expect(toMicros(1_700_000_000.5)).toBe(1_700_000_000_500_000);
    expect(toMicros(99_999_999_999)).toBe(99_999_999_999_000_000);
  });

  it('reads timestamps from 1e11 and below 1e14 as milliseconds', () => {
    expect(toMicros(1e11)).toBe(1e14);
    expect(toMicros(1_700_000_000_123)).toBe(1_700_000_000_123_000);
    expect(toMicros(99_999_999_999_999)).toBe(99_999_999_999_999_000);
  });

  it('reads timestamps from 1e14 as microseconds', () => {
    expect(toMicros(1e14)).toBe(1e14);
    expect(toMicros(1_700_000_000_123_456)).toBe(1_700_000_000_123_456);
  });

  it('rounds to whole microseconds', () => {
    expect(toMicros(1.0000004)).toBe(1_000_000);
    expect(toMicros(123_456_789_012.4375)).toBe(123_456_789_012_438);
    expect(toMicros(1e15 + 0.4)).toBe(1e15);
  });

  it('gives the same instant whichever unit it was written in', () => {
    const seconds = 1_700_000_000;
    expect(toMicros(seconds)).toBe(toMicros(seconds * 1e3));
    expect(toMicros(seconds * 1e3)).toBe(toMicros(seconds * 1e6));
  });
});

describe('systemClock', () => {
  it('tells the time in microseconds since the epoch', () => {
    const before = Date.now() * 1000;
    const now = systemClock.nowMicros();
    const after = Date.now() * 1000;
    expect(Number.isInteger(now)).toBe(true);
    // performance.timeOrigin may differ from Date.now() by a few ms.
    expect(now).toBeGreaterThan(before - 50_000);
    expect(now).toBeLessThan(after + 50_000);
  });
});

describe('createSystemClock', () => {
  /** A host whose wall and monotonic clocks the test moves by hand, in ms. */
  function host() {
    const time = { wall: 1_700_000_000_000, mono: 500 };
    const clock = createSystemClock(
      () => time.wall,
      () => time.mono,
    );
    return { time, clock };
  }

  it('keeps sub-millisecond precision from the monotonic clock', () => {
    const { time, clock } = host();
    time.mono += 0.25;
    expect(clock.nowMicros()).toBe(1_700_000_000_000_250);
  });

  it('catches up with the wall clock after the host slept', () => {
    const { time, clock } = host();
    // The monotonic clock does not run while the host is suspended.
    time.wall += 3_600_000;
    expect(clock.nowMicros()).toBe(1_700_003_600_000_000);
    time.wall += 1;
    time.mono += 1.5;
    expect(clock.nowMicros()).toBe(1_700_003_600_001_500);
  });

  it('follows the wall clock when NTP sets it back', () => {
    const { time, clock } = host();
    time.wall -= 10_000;
    expect(clock.nowMicros()).toBe(1_699_999_990_000_000);
  });
});
