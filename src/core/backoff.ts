/** How often and how patiently a webhook delivery is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included; after the last failure the delivery is kept as failed. */
  maxAttempts: number;
  /** Wait after the first failure, before jitter. */
  firstDelayMs: number;
  /** Each further wait is this many times the previous one... */
  factor: number;
  /** ...up to this. */
  maxDelayMs: number;
}

/**
 * 8 attempts; waits of about 2 s, 7 s, 25 s, 1.5 min, 5 min, 17.5 min and 1 h before jitter,
 * so a delivery is given up 42 to 85 minutes after its first attempt.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  firstDelayMs: 2_000,
  factor: 3.5,
  maxDelayMs: 3_600_000,
};

/**
 * The wait before the next attempt after `failedAttempts` (≥ 1) failures: exponential, capped,
 * with "equal jitter" (between half and all of the exponential wait), so that deliveries that
 * failed together, when a receiver went down, do not all come back at the same instant.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempts: number, random: () => number): number {
  const exponential = Math.min(
    policy.maxDelayMs,
    policy.firstDelayMs * policy.factor ** Math.max(0, failedAttempts - 1),
  );
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
