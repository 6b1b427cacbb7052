/**
 * Device connectivity benchmark (`npm run bench`): fleetgate's MQTT and HTTP device listeners
 * against bare reference servers (aedes, mosquitto, Fastify) on the same machine, in one run.
 * bench/README.md describes each part and the method. Environment:
 *   BENCH_ONLY=mqtt,idle,http    parts to run (all by default)
 *   BENCH_WARMUP_S=2 BENCH_DURATION_S=10   timed parts: warm-up, then measured window
 *   BENCH_ROUNDS=3               measure every server this many times, in turn (idle: afresh each round)
 *   BENCH_GENERATORS=2           load generator processes
 *   BENCH_MQTT_DEVICES=50 BENCH_MQTT_IN_FLIGHT=32
 *   BENCH_IDLE_CONNECTIONS=20000 BENCH_IDLE_CONCURRENCY=100
 *   BENCH_HTTP_CONNECTIONS=50
 *   BENCH_MOSQUITTO=/path/to/mosquitto
 *   BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"   profiles fleetgate
 *   BENCH_BARE_NODE_ARGS="--trace-gc-nvp"   the same for the bare aedes and Fastify servers
 *   BENCH_SERVER_OUTPUT_DIR=DIR  keeps each server's stdout and stderr (e.g. --trace-gc) in DIR
 *   BENCH_MARKDOWN=file          where the markdown section goes (bench/.work/device-bench.md)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deviceHttpWrites } from './device-part-http.js';
import { removeDataDirs } from './fleetgate-process.js';
import { idleConnections } from './device-part-idle.js';
import { mqttIngest } from './device-part-mqtt.js';
import type { PartContext, PartReport } from './device-report.js';
import { startGenerators } from './generators.js';
import { fileDescriptors, killAllChildren } from './server-process.js';
import { load, machine } from './stats.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const PARTS = {
  mqtt: mqttIngest,
  idle: idleConnections,
  http: deviceHttpWrites,
} satisfies Record<string, (context: PartContext) => Promise<PartReport>>;
const TIME_BUDGET_MS = 15 * 60_000;

const log = (text: string) => process.stderr.write(`${text}\n`);

function selectedParts(): (keyof typeof PARTS)[] {
  const names = (process.env.BENCH_ONLY ?? Object.keys(PARTS).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(name in PARTS));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_ONLY: unknown part ${unknown.join(', ')} (parts: ${Object.keys(PARTS).join(', ')})`,
    );
  return names as (keyof typeof PARTS)[];
}

async function main(): Promise<void> {
  const parts = selectedParts();
  const started = performance.now();
  const loadBefore = load();
  const generatorCount = Number(process.env.BENCH_GENERATORS ?? 2);
  const files = fileDescriptors('self');
  const header = [
    `Machine: ${machine()}; load average (1 min) ${loadBefore} at start`,
    `Open files limit (ulimit -n): ${files.limit}; load generators: ${generatorCount} processes`,
  ];
  for (const line of header) log(line);

  const generators = startGenerators(ROOT, generatorCount);
  const context: PartContext = {
    root: ROOT,
    generators,
    warmupMs: Number(process.env.BENCH_WARMUP_S ?? 2) * 1000,
    durationMs: Number(process.env.BENCH_DURATION_S ?? 10) * 1000,
    rounds: Number(process.env.BENCH_ROUNDS ?? 3),
    log,
  };
  const reports: PartReport[] = [];
  try {
    for (const part of parts) reports.push(await PARTS[part](context));
  } finally {
    for (const generator of generators) generator.stop();
  }

  const markdown = [
    `## Device connectivity (npm run bench), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    ...header.map((line) => `${line}  `),
    `Timed parts: ${context.warmupMs / 1000} s warm-up, then ${context.durationMs / 1000} s measured, ` +
      `${context.rounds} round${context.rounds > 1 ? 's' : ''}; ` +
      `load average ${load()} at end; whole run ${((performance.now() - started) / 1000).toFixed(0)} s`,
    ...reports.flatMap((report) => ['', `### ${report.title}`, '', ...report.lines]),
    '',
  ].join('\n');
  process.stdout.write(`\n${markdown}`);
  const file = process.env.BENCH_MARKDOWN ?? join(ROOT, 'bench/.work/device-bench.md');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, markdown);
  log(`markdown section written to ${file}`);
  if (reports.some((r) => r.failed)) process.exitCode = 1;
}

// Whatever happens, no server or generator outlives the bench, nor a gateway's data directory.
process.on('exit', () => {
  killAllChildren();
  removeDataDirs();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    log(`${signal}: stopping`);
    process.exit(130);
  });
const watchdog = setTimeout(() => {
  log(`the bench exceeded its ${TIME_BUDGET_MS / 60_000} min budget; stopping`);
  process.exit(1);
}, TIME_BUDGET_MS);
watchdog.unref();
try {
  await main();
} catch (error) {
  log(`bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  killAllChildren();
}
