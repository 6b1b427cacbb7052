/**
 * Archive and restore benchmark (`npm run bench:archive`): starts the real gateway process on a
 * fresh data directory and publishes one UTC day of 1 Hz samples for 100 signals (10 devices × 10
 * number resources, 8,640,000 samples) into a resource class of retention "0", on the 15th of
 * last month. Restarting the gateway makes its retention pass archive that month (seal, daily file
 * written, read back and checksummed, partition dropped), timed from its log lines. Then
 * restoreTime brings the day back, timed from the request to the task's end (polled), and once
 * more (every sample replaced). BENCHMARKS.md has the method and results. Environment:
 * BENCH_DEVICES (10), BENCH_SIGNALS (10), BENCH_SECONDS (86400), BENCH_BATCH (1000 timestamps per
 * publishData), BENCH_IN_FLIGHT (4), BENCH_GATEWAY_NODE_ARGS, BENCH_MARKDOWN.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startGateway, type RunningGateway } from './gateway-process.js';
import { createApiClient, expectCall, type ApiClient } from './http-client.js';
import { load, machine, percentile, processCpuMs, runLoad } from './stats.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const DEVICES = Number(process.env.BENCH_DEVICES ?? 10);
const SIGNALS = Number(process.env.BENCH_SIGNALS ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 86_400);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const MARKDOWN = process.env.BENCH_MARKDOWN ?? join(ROOT, 'bench/.work/archive-bench.md');
const TARGET = 200_000;

const log = (text: string) => process.stderr.write(`${text}\n`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number) => (ms / 1000).toFixed(1);

type Entry = Record<string, unknown>;

async function ingest(api: ApiClient, pid: number | undefined, dayUs: number) {
  const perDevice = Math.ceil(SECONDS / BATCH);
  return runLoad({ inFlight: IN_FLIGHT, count: DEVICES * perDevice, gatewayPid: pid }, async (k) => {
    const device = k % DEVICES;
    const first = Math.floor(k / DEVICES) * BATCH;
    const payload = [];
    for (let i = first; i < Math.min(SECONDS, first + BATCH); i++) {
      const values: Record<string, number> = {};
      for (let s = 0; s < SIGNALS; s++)
        values[`s${s}`] = Math.round((20 + 5 * Math.sin(i / 3600 + s) + ((i * 7919) % 13) / 10) * 10) / 10;
      payload.push({ timestamp: dayUs + i * 1_000_000, values });
    }
    await expectCall(api, 'publishData', { identity: `device-${device}`, payload }, 204);
  });
}

/**
 * Calls getGatewaySettings one at a time on its own connection until `until` settles: how long
 * other requests wait while the restore holds the event loop between its transactions.
 */
async function probe(port: number, token: string, until: Promise<unknown>): Promise<number[]> {
  const client = createApiClient(port, token, 1);
  const latencies: number[] = [];
  let over = false;
  void until.finally(() => (over = true));
  try {
    while (!over) {
      const t0 = performance.now();
      await expectCall(client, 'getGatewaySettings', {});
      latencies.push(performance.now() - t0);
      await sleep(20);
    }
  } finally {
    client.close();
  }
  return latencies;
}

/** Restores the day and waits for the task's end: elapsed ms and gateway CPU ms. */
async function restore(api: ApiClient, pid: number | undefined, day: string) {
  const cpu = processCpuMs(pid);
  const started = performance.now();
  const { task_id } = (await expectCall(api, 'restoreTime', { start_date: day, end_date: day })) as {
    task_id: string;
  };
  for (;;) {
    const [task] = (await expectCall(api, 'getRestoreStatus', {})) as { task_id: string; status: string }[];
    if (task?.task_id === task_id && (task.status === 'done' || task.status === 'failed')) break;
    await sleep(50);
  }
  const elapsedMs = performance.now() - started;
  const files = (await expectCall(api, 'getRestoreTaskStatus', { task_id })) as {
    status: string;
    samples: number;
    message?: string;
  }[];
  const failed = files.find((f) => f.status !== 'done');
  if (failed) throw new Error(`restore failed: ${failed.message}`);
  return { elapsedMs, cpuMs: processCpuMs(pid) - cpu, samples: files.reduce((sum, f) => sum + f.samples, 0) };
}

async function main(): Promise<void> {
  const loadBefore = load();
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetgate-archive-bench-'));
  const total = DEVICES * SIGNALS * SECONDS;
  const now = new Date();
  const dayUs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15) * 1000;
  const day = new Date(dayUs / 1000).toISOString().slice(0, 10);
  let gateway: RunningGateway | undefined = await startGateway(ROOT, dataDir);
  let api = createApiClient(gateway.port, gateway.token, IN_FLIGHT);
  try {
    for (let s = 0; s < SIGNALS; s++)
      await expectCall(api, 'addResource', { alias: `s${s}`, format: 'number', retention: '0' }, 204);
    for (let d = 0; d < DEVICES; d++) await expectCall(api, 'addIdentity', { identity: `device-${d}` }, 204);
    log(`publishing ${int(total)} samples of ${day}…`);
    const ingested = await ingest(api, gateway.child.pid, dayUs);
    log(`ingest: ${int((total / ingested.elapsedMs) * 1000)} samples/s`);
    api.close();
    await gateway.stop();

    // At start, the retention pass finds last month's class-0 partition expired and archives it.
    const logs: Entry[] = [];
    gateway = await startGateway(ROOT, dataDir, 20_000, (entry) => logs.push(entry));
    api = createApiClient(gateway.port, gateway.token, 1);
    const archiveCpu = processCpuMs(gateway.child.pid);
    log('archiving (retention pass at start)…');
    while (!logs.some((e) => e.msg === 'partition dropped')) {
      const failure = logs.find((e) => e.msg === 'partition kept: archive or drop failed');
      if (failure) throw new Error(`archiving failed: ${JSON.stringify(failure)}`);
      await sleep(50);
    }
    const at = (msg: string) => logs.find((e) => e.msg === msg)!.time as number;
    const archiveMs = at('partition dropped') - at('archiving partition');
    const cpuArchive = processCpuMs(gateway.child.pid) - archiveCpu;
    const written = logs.filter((e) => e.msg === 'archive file written');
    const rows = written.reduce((sum, e) => sum + (e.rows as number), 0);
    const bytes = written.reduce((sum, e) => sum + (e.bytes as number), 0);
    if (rows !== total) throw new Error(`archived ${rows} rows, expected ${total}`);
    log(`archive: ${int((total / archiveMs) * 1000)} samples/s`);

    log('restoring…');
    const restoring = restore(api, gateway.child.pid, day);
    const latencies = await probe(gateway.port, gateway.token, restoring);
    const first = await restoring;
    if (first.samples !== total) throw new Error(`restored ${first.samples} samples, expected ${total}`);
    const counted = (await expectCall(api, 'aggrquerySignal', {
      identity: 'device-0',
      signal: 's0',
      bucket: '1h',
      start_time: dayUs / 1e6,
      end_time: dayUs / 1e6 + 86_400,
      fields: ['count'],
    })) as { data: { count: number }[] };
    const perSignal = counted.data.reduce((sum, item) => sum + item.count, 0);
    if (perSignal !== SECONDS) throw new Error(`device-0/s0 has ${perSignal} samples after the restore`);
    log(`restore: ${int((total / first.elapsedMs) * 1000)} samples/s; again…`);
    const again = await restore(api, gateway.child.pid, day);

    const archiveRate = (total / archiveMs) * 1000;
    const restoreRate = (total / first.elapsedMs) * 1000;
    const verdict = (met: boolean) => (met ? 'yes' : '**no**');
    const lines = [
      `Machine: ${machine()}; load average (1 min) ${loadBefore} at start, ${load()} at end; whole run ${Math.round((performance.now() - started) / 1000)} s`,
      '',
      `Data: ${DEVICES} devices × ${SIGNALS} number resources (retention "0"), 1 Hz for ${int(SECONDS)} s on ${day}: ${int(total)} samples, published in ${seconds(ingested.elapsedMs)} s (${int((total / ingested.elapsedMs) * 1000)} samples/s). Archive file: ${written.length} file, ${(bytes / 1_048_576).toFixed(1)} MB (${(bytes / total).toFixed(1)} bytes per sample).`,
      '',
      '| Step | Samples | Time (s) | Samples/s | Gateway CPU (s) | Target | Met |',
      '|---|---:|---:|---:|---:|---|:-:|',
      `| archive: retention pass (seal, write + fsync, read back + SHA-256, drop) | ${int(total)} | ${seconds(archiveMs)} | ${int(archiveRate)} | ${seconds(cpuArchive)} | ≥ restore | ${verdict(archiveRate >= restoreRate)} |`,
      `| restore: restoreTime of the day, request to task done | ${int(first.samples)} | ${seconds(first.elapsedMs)} | ${int(restoreRate)} | ${seconds(first.cpuMs)} | ≥ ${int(TARGET)}/s | ${verdict(restoreRate >= TARGET)} |`,
      `| restore again (every sample replaced, rollup buckets recomputed) | ${int(again.samples)} | ${seconds(again.elapsedMs)} | ${int((total / again.elapsedMs) * 1000)} | ${seconds(again.cpuMs)} | | |`,
      '',
      `Other requests during the first restore (getGatewaySettings, one at a time, ${int(latencies.length)} calls): median ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms.`,
    ];
    const markdown = lines.join('\n');
    mkdirSync(dirname(MARKDOWN), { recursive: true });
    writeFileSync(MARKDOWN, `${markdown}\n`);
    process.stdout.write(`${markdown}\n`);
    log(`markdown section written to ${MARKDOWN}`);
  } finally {
    api.close();
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
