import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export interface LoadResult {
  /** Per-request latencies in ms, in completion order. */
  latencies: number[];
  /** Completion times, ms since the start. */
  completions: number[];
  elapsedMs: number;
  count: number;
  /** CPU time the gateway process used meanwhile (all its threads), in ms; NaN if unknown. */
  gatewayCpuMs: number;
}

/** CPU time (user + system) of a process so far, in ms, from /proc; NaN where there is none. */
export function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks of 10 ms on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * Runs `task(i)` for i = 0, 1, … with `inFlight` requests outstanding at any time, until `count`
 * tasks are done or `durationMs` has passed, whichever comes first.
 */
export async function runLoad(
  options: { inFlight: number; count?: number; durationMs?: number; gatewayPid?: number },
  task: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const count = options.count ?? Number.POSITIVE_INFINITY;
  const cpuBefore = processCpuMs(options.gatewayPid);
  const start = performance.now();
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : start + options.durationMs;
  const latencies: number[] = [];
  const completions: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      await task(i);
      const t1 = performance.now();
      latencies.push(t1 - t0);
      completions.push(t1 - start);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  return {
    latencies,
    completions,
    elapsedMs: performance.now() - start,
    count: latencies.length,
    gatewayCpuMs: processCpuMs(options.gatewayPid) - cpuBefore,
  };
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
  /** Gateway CPU time per request, µs. */
  cpuPerRequest: number;
}

export function summarize(result: LoadResult): Summary {
  return {
    count: result.count,
    median: percentile(result.latencies, 50),
    p95: percentile(result.latencies, 95),
    rate: (result.count / result.elapsedMs) * 1000,
    cpuPerRequest: (result.gatewayCpuMs * 1000) / result.count,
  };
}

/** Requests completed in each whole second of the run: min, median and max over the seconds. */
export function secondRates(result: LoadResult): { min: number; median: number; max: number } {
  const seconds = Math.max(1, Math.floor(result.elapsedMs / 1000));
  const counts = Array.from({ length: seconds }, () => 0);
  for (const t of result.completions) if (t < seconds * 1000) counts[Math.floor(t / 1000)]! += 1;
  return { min: Math.min(...counts), median: percentile(counts, 50), max: Math.max(...counts) };
}

export interface Row {
  name: string;
  summary: Summary;
  target: string;
  met: boolean | undefined;
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');

export function markdownTable(rows: Row[]): string {
  const lines = [
    '| Case | Requests | Median (ms) | p95 (ms) | Rate (req/s) | Gateway CPU (µs/req) | Target | Met |',
    '|---|---:|---:|---:|---:|---:|---|:-:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${int(r.summary.count)} | ${ms(r.summary.median)} | ${ms(r.summary.p95)} | ${int(r.summary.rate)} | ${int(r.summary.cpuPerRequest)} | ${r.target} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`,
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
    // not Linux: keep what os.cpus() says
  }
  const ram = (totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${cpus().length} cores, ${ram} GiB RAM, Node.js ${process.version}, ${process.platform}/${process.arch}`;
}

/** The 1-minute load average: other work on the machine shares its cores with the bench. */
export function load(): string {
  return loadavg()[0]!.toFixed(2);
}
