import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, retryDelayMs, type RetryPolicy } from './backoff.js';

const policy: RetryPolicy = { maxAttempts: 8, firstDelayMs: 1_000, factor: 2, maxDelayMs: 10_000 };

describe('the retry schedule', () => {
  it('doubles the wait after each failure, up to the cap, when jitter takes all of it', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((failures) => retryDelayMs(policy, failures, () => 1));
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it('jitters each wait between half and all of it', () => {
    expect(retryDelayMs(policy, 3, () => 0)).toBe(2_000);
    expect(retryDelayMs(policy, 3, () => 0.5)).toBe(3_000);
    for (let i = 0; i < 200; i++) {
      const wait = retryDelayMs(policy, 4, Math.random);
      expect(wait).toBeGreaterThanOrEqual(4_000);
      expect(wait).toBeLessThanOrEqual(8_000);
    }
  });

  it('by default gives a delivery 8 attempts spread over roughly an hour', () => {
    const retries = DEFAULT_RETRY_POLICY.maxAttempts - 1;
    const total = (random: () => number) =>
      Array.from({ length: retries }, (_, k) => retryDelayMs(DEFAULT_RETRY_POLICY, k + 1, random)).reduce(
        (a, b) => a + b,
      );
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBe(8);
    expect(total(() => 0) / 60_000).toBeGreaterThan(40);
    expect(total(() => 1) / 60_000).toBeLessThan(90);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, () => 1)).toBe(2_000);
  });
});
