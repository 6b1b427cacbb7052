import { describe, expect, it } from 'vitest';
import type { Scheduler } from './device-metrics.js';
import { expiresAt, RetentionJob } from './retention.js';
import type { SamplePartition, TimeSeriesStore } from './time-series-ports.js';

const micros = (y: number, m: number, d = 1) => Date.UTC(y, m - 1, d) * 1000;

describe('retention', () => {
  it('lets a month go once it lies wholly more than the retention back (retention 0: once it is over)', () => {
    expect(expiresAt({ retention: 0, month: 202312 })).toBe(micros(2024, 1));
    expect(expiresAt({ retention: 1, month: 202312 })).toBe(micros(2024, 2));
    expect(expiresAt({ retention: 12, month: 202302 })).toBe(micros(2024, 3));
    expect(expiresAt({ retention: 120, month: 202301 })).toBe(micros(2033, 2));
  });

  it('runs a pass at start and on every tick, and stops after the pass in flight', async () => {
    const partitions: SamplePartition[] = [
      { retention: 3, month: 202301, startUs: micros(2023, 1), endUs: micros(2023, 2) },
      { retention: 3, month: 202312, startUs: micros(2023, 12), endUs: micros(2024, 1) },
    ];
    const dropped: number[] = [];
    const gates: (() => void)[] = [];
    const store = {
      partitions: () => Promise.resolve([...partitions]),
      dropPartition: async (p: Pick<SamplePartition, 'month'>) => {
        await new Promise<void>((resolve) => gates.push(resolve));
        dropped.push(p.month);
        partitions.splice(
          partitions.findIndex((q) => q.month === p.month),
          1,
        );
        return true;
      },
    } as unknown as TimeSeriesStore;
    let tick: (() => Promise<void>) | undefined;
    const scheduler: Scheduler = (_interval, task) => {
      tick = task;
      return () => (tick = undefined);
    };
    const clock = { now: micros(2024, 1, 15), nowMicros: () => clock.now };
    const job = new RetentionJob({ store, clock, scheduler });
    job.start();
    // The pass at start drops January 2023 only: December is not 3 months back yet.
    await expect.poll(() => gates.length).toBe(1);
    gates[0]!();
    await expect.poll(() => dropped).toEqual([202301]);
    clock.now = micros(2024, 4);
    const pass = tick!();
    await expect.poll(() => gates.length).toBe(2);
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    gates[1]!();
    await stopping;
    await pass;
    expect(dropped).toEqual([202301, 202312]);
    expect(tick).toBe(undefined);
  });
});
