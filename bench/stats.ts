import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

export interface LoadResult {
  /** Per-request latencies in ms, in completion order. */
  latencies: number[];
  elapsedMs: number;
  count: number;
}

/**
 * Runs `task(i)` for i = 0, 1, … with `inFlight` requests outstanding at any time, until `count`
 * tasks are done or `durationMs` has passed, whichever comes first.
 */
export async function runLoad(
  options: { inFlight: number; count?: number; durationMs?: number },
  task: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const count = options.count ?? Number.POSITIVE_INFINITY;
  const start = performance.now();
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : start + options.durationMs;
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      await task(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  return { latencies, elapsedMs: performance.now() - start, count: latencies.length };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Summary {
  count: number;
  median: number;
  p95: number;
  rate: number;
}

export function summarize(result: LoadResult): Summary {
  return {
    count: result.count,
    median: percentile(result.latencies, 50),
    p95: percentile(result.latencies, 95),
    rate: (result.count / result.elapsedMs) * 1000,
  };
}

export interface Row {
  name: string;
  summary: Summary;
  target: string;
  met: boolean | undefined;
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const int = (value: number) => Math.round(value).toLocaleString('en-US');

export function markdownTable(rows: Row[]): string {
  const lines = [
    '| Case | Requests | Median (ms) | p95 (ms) | Rate (req/s) | Target | Met |',
    '|---|---:|---:|---:|---:|---|:-:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${int(r.summary.count)} | ${ms(r.summary.median)} | ${ms(r.summary.p95)} | ${int(r.summary.rate)} | ${r.target} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`,
    ),
  ];
  return lines.join('\n');
}

export function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) model = line.split(':')[1]!.trim();
  } catch {
    // not Linux
  }
  const ram = (totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${cpus().length} cores, ${ram} GiB RAM, Node.js ${process.version}, ${process.platform}/${process.arch}`;
}
