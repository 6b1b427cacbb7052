/**
 * Time-series benchmark (`npm run bench:query`): starts the real gateway process on a fresh data
 * directory, loads one identity with 30 days of 1 Hz samples through publishData (measuring
 * ingest), then times the queries of issue 4 over HTTP and a GROUP BY over the raw samples on the
 * same SQLite file (opened read-only by this process), in the same run. BENCHMARKS.md has the
 * method and results. Environment: BENCH_DAYS (30), BENCH_BATCH (1000), BENCH_IN_FLIGHT (4),
 * BENCH_QUERY_REQUESTS (200), BENCH_RAW_RUNS (10), BENCH_GATEWAY_NODE_ARGS, BENCH_MARKDOWN.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startGateway } from './gateway-process.js';
import { createApiClient, expectCall, type ApiClient } from './http-client.js';
import { load, machine, percentile, runLoad, summarize, type LoadResult } from './stats.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const QUERY_REQUESTS = Number(process.env.BENCH_QUERY_REQUESTS ?? 200);
const RAW_RUNS = Number(process.env.BENCH_RAW_RUNS ?? 10);
const MARKDOWN = process.env.BENCH_MARKDOWN ?? join(ROOT, 'bench/.work/query-bench.md');
const IDENTITY = 'bench-sensor';
const HOUR_US = 3_600_000_000;

const log = (text: string) => process.stderr.write(`${text}\n`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));

/** 30 days of 1 Hz samples ending at the last whole hour, published in batches. */
async function ingest(api: ApiClient, pid: number | undefined, endUs: number) {
  const total = DAYS * 86_400;
  const firstUs = endUs - total * 1_000_000;
  const batches = Math.ceil(total / BATCH);
  const result = await runLoad({ inFlight: IN_FLIGHT, count: batches, gatewayPid: pid }, async (b) => {
    const payload = [];
    for (let i = b * BATCH; i < Math.min(total, (b + 1) * BATCH); i++) {
      // A daily cycle with some noise, to one decimal, as a temperature sensor sends.
      const value =
        Math.round((20 + 5 * Math.sin((i / 86_400) * 2 * Math.PI) + ((i * 7919) % 13) / 10) * 10) / 10;
      payload.push({ timestamp: firstUs + i * 1_000_000, values: { temp: value } });
    }
    await expectCall(api, 'publishData', { identity: IDENTITY, payload }, 204);
  });
  return { result, total, firstUs };
}

async function timed(
  api: ApiClient,
  pid: number | undefined,
  operation: string,
  params: unknown,
  check: (body: unknown) => void,
) {
  // Warm-up of the JIT and of the page cache: not measured.
  for (let i = 0; i < 20; i++) check(await expectCall(api, operation, params));
  return runLoad({ inFlight: 1, count: QUERY_REQUESTS, gatewayPid: pid }, async () => {
    check(await expectCall(api, operation, params));
  });
}

/** The same aggregation as aggrquerySignal, as one GROUP BY over the raw samples. */
function rawGroupBy(file: string, fromUs: number, toUs: number) {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare('SELECT table_name FROM sample_partitions WHERE start_us < ? AND end_us > ?')
      .pluck()
      .all(toUs, fromUs) as string[];
    const arms = tables.map(
      (t) =>
        `SELECT timestamp, value FROM ${t} WHERE identity = @identity AND resource = 'temp' AND timestamp >= @from AND timestamp < @to`,
    );
    const statement = db.prepare(`SELECT (timestamp / ${HOUR_US}) * ${HOUR_US} AS bucket, count(*) AS count,
      sum(value) AS sum, min(value) AS min, max(value) AS max FROM (${arms.join(' UNION ALL ')})
      GROUP BY bucket ORDER BY bucket DESC`);
    const params = { identity: IDENTITY, from: fromUs, to: toUs };
    let buckets = statement.all(params).length;
    const latencies: number[] = [];
    for (let i = 0; i < RAW_RUNS; i++) {
      const t0 = performance.now();
      buckets = statement.all(params).length;
      latencies.push(performance.now() - t0);
    }
    return { latencies, buckets, partitions: tables.length };
  } finally {
    db.close();
  }
}

function expectItems(count: number) {
  return (body: unknown) => {
    const data = (body as { data?: unknown[] }).data;
    if (!Array.isArray(data) || data.length !== count)
      throw new Error(`expected ${count} items, got ${data?.length}`);
  };
}

async function main(): Promise<void> {
  const loadBefore = load();
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetgate-query-bench-'));
  const gateway = await startGateway(ROOT, dataDir);
  const pid = gateway.child.pid;
  const api = createApiClient(gateway.port, gateway.token, IN_FLIGHT);
  try {
    await expectCall(api, 'addResource', { alias: 'temp', format: 'number' }, 204);
    await expectCall(api, 'addIdentity', { identity: IDENTITY }, 204);
    const endUs = Math.floor((Date.now() * 1000) / HOUR_US) * HOUR_US;
    log(`publishing ${int(DAYS * 86_400)} samples in batches of ${BATCH}, ${IN_FLIGHT} requests in flight…`);
    const { result: ingestResult, total, firstUs } = await ingest(api, pid, endUs);
    const ingestRate = (total / ingestResult.elapsedMs) * 1000;
    const ingestCpu = (ingestResult.gatewayCpuMs * 1000) / total;
    log(`ingest: ${int(ingestRate)} samples/s`);

    const hours = (endUs - firstUs) / HOUR_US;
    const aggr = await timed(
      api,
      pid,
      'aggrquerySignal',
      {
        identity: IDENTITY,
        signal: 'temp',
        bucket: '1h',
        start_time: firstUs / 1e6,
        end_time: endUs / 1e6,
        limit: 10_000,
      },
      expectItems(hours),
    );
    const weekUs = 7 * 24 * HOUR_US;
    const fiveMinutes = await timed(
      api,
      pid,
      'aggrquerySignal',
      {
        identity: IDENTITY,
        signal: 'temp',
        bucket: '5m',
        start_time: (endUs - weekUs) / 1e6,
        end_time: endUs / 1e6,
        limit: 10_000,
      },
      expectItems(weekUs / 300_000_000),
    );
    const latest = await timed(
      api,
      pid,
      'querySignal',
      { identity: IDENTITY, signal: 'temp' },
      expectItems(1000),
    );
    const raw = rawGroupBy(join(dataDir, 'fleetgate.db'), firstUs, endUs);
    if (raw.buckets !== hours)
      throw new Error(`the raw GROUP BY gave ${raw.buckets} buckets, expected ${hours}`);

    const aggrMedian = percentile(aggr.latencies, 50);
    const rawMedian = percentile(raw.latencies, 50);
    const ratio = rawMedian / aggrMedian;
    const row = (name: string, r: LoadResult, target: string, met?: boolean) => {
      const s = summarize(r);
      const verdict = met === undefined ? '' : met ? 'yes' : '**no**';
      return `| ${name} | ${int(s.count)} | ${ms(s.median)} | ${ms(s.p95)} | ${int(s.cpuPerRequest)} | ${target} | ${verdict} |`;
    };
    const lines = [
      `Machine: ${machine()}; load average (1 min) ${loadBefore} at start, ${load()} at end; whole run ${Math.round((performance.now() - started) / 1000)} s`,
      '',
      `Data: one identity, ${int(total)} samples of one number resource (${DAYS} days at 1 Hz, ${hours} hours), in ${raw.partitions} month partitions.`,
      '',
      '| Ingest | Samples | Requests | Samples/s | Median request (ms) | Gateway CPU (µs/sample) | Target | Met |',
      '|---|---:|---:|---:|---:|---:|---|:-:|',
      `| publishData, batches of ${BATCH}, ${IN_FLIGHT} in flight | ${int(total)} | ${int(ingestResult.count)} | ${int(ingestRate)} | ${ms(percentile(ingestResult.latencies, 50))} | ${ingestCpu.toFixed(2)} | ≥ 200,000/s | ${ingestRate >= 200_000 ? 'yes' : '**no**'} |`,
      '',
      '| Query (through the API, one at a time) | Requests | Median (ms) | p95 (ms) | Gateway CPU (µs/req) | Target | Met |',
      '|---|---:|---:|---:|---:|---|:-:|',
      row(`aggrquerySignal, bucket 1h, ${DAYS} days (${hours} buckets)`, aggr, '≤ 50 ms', aggrMedian <= 50),
      row('aggrquerySignal, bucket 5m, 7 days (2,016 buckets)', fiveMinutes, ''),
      row(
        'querySignal, latest 1,000 samples (defaults)',
        latest,
        '≤ 20 ms',
        percentile(latest.latencies, 50) <= 20,
      ),
      '',
      `Raw GROUP BY over the ${int(total)} samples (same aggregation, SQLite read-only in the bench process, ${RAW_RUNS} runs): median ${ms(rawMedian)} ms, min ${ms(Math.min(...raw.latencies))} ms.`,
      '',
      `**aggrquerySignal is ${ratio.toFixed(1)}× faster than the raw GROUP BY** (target ≥ 20×): ${ratio >= 20 ? 'yes' : '**no**'}`,
    ];
    const markdown = lines.join('\n');
    mkdirSync(dirname(MARKDOWN), { recursive: true });
    writeFileSync(MARKDOWN, `${markdown}\n`);
    process.stdout.write(`${markdown}\n`);
    log(`markdown section written to ${MARKDOWN}`);
  } finally {
    api.close();
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
