/**
 * Registry benchmark (`npm run bench:registry`): starts the real gateway process on a fresh data
 * directory, drives it over HTTP with keep-alive connections, and prints a markdown table.
 * BENCHMARKS.md describes the method. Environment: BENCH_IDENTITIES (100000),
 * BENCH_QUERY_REQUESTS (300), BENCH_GATEWAY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=DIR").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway, type RunningGateway } from './gateway-process.js';
import { createApiClient, expectCall, type ApiClient } from './http-client.js';
import {
  addIdentityParams,
  FIRMWARES,
  SITES,
  statusOf,
  tagsOf,
  TYPES,
  writeLastseen,
} from './registry-data.js';
import { runQueries } from './registry-queries.js';
import {
  load,
  machine,
  markdownTable,
  runLoad,
  secondRates,
  summarize,
  type LoadResult,
  type Row,
} from './stats.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const TOTAL = Number(process.env.BENCH_IDENTITIES ?? 100_000);
const QUERY_REQUESTS = Number(process.env.BENCH_QUERY_REQUESTS ?? 300);
const WARMUP_ADDS = 5_000;
const ADD_PHASE_MS = 4_000;
const SEED_IN_FLIGHT = 16;
const TIME_BUDGET_MS = 180_000;

const log = (text: string) => process.stderr.write(`${text}\n`);

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** Adds identities from index `first` on, `inFlight` at a time; returns the next index. */
async function addIdentities(
  client: ApiClient,
  gatewayPid: number | undefined,
  first: number,
  options: { inFlight: number; count?: number; durationMs?: number },
): Promise<{ next: number; result: LoadResult }> {
  const result = await runLoad(
    { ...options, count: Math.min(options.count ?? Infinity, TOTAL - first), gatewayPid },
    async (i) => {
      await expectCall(client, 'addIdentity', addIdentityParams(first + i), 204);
    },
  );
  return { next: first + result.count, result };
}

/** Seeds the fleet through the API, measuring addIdentity on the way; returns rows and notes. */
async function seed(
  client: ApiClient,
  gatewayPid: number | undefined,
): Promise<{ rows: Row[]; notes: string[] }> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const seedRow = (name: string, result: LoadResult) => {
    if (result.count > 0) rows.push({ name, summary: summarize(result), target: '', met: undefined });
  };

  // JIT warm-up of the fresh process; these identities are part of the fleet.
  let step = await addIdentities(client, gatewayPid, 0, { inFlight: 8, count: WARMUP_ADDS });
  seedRow('warm-up: addIdentity, 8 in flight (not a measurement)', step.result);
  for (const inFlight of [1, 8]) {
    step = await addIdentities(client, gatewayPid, step.next, { inFlight, durationMs: ADD_PHASE_MS });
    if (step.result.count === 0) throw new Error(`BENCH_IDENTITIES=${TOTAL} leaves no identity to add`);
    const summary = summarize(step.result);
    const name =
      inFlight === 1 ? 'addIdentity, sequential (1 in flight)' : `addIdentity, ${inFlight} in flight`;
    rows.push({ name, summary, target: '≥ 5,000/s', met: summary.rate >= 5000 });
    const perSecond = secondRates(step.result);
    notes.push(
      `${name}: requests completed per second over the ${ADD_PHASE_MS / 1000} s, min ${int(perSecond.min)}, ` +
        `median ${int(perSecond.median)}, max ${int(perSecond.max)}`,
    );
    log(`${name}: ${int(summary.rate)}/s`);
  }
  step = await addIdentities(client, gatewayPid, step.next, { inFlight: SEED_IN_FLIGHT });
  seedRow(`seed: addIdentity, ${SEED_IN_FLIGHT} in flight`, step.result);
  const tags = await runLoad({ inFlight: SEED_IN_FLIGHT, count: TOTAL, gatewayPid }, async (i) => {
    await expectCall(
      client,
      'addIdentityTag',
      { identity: addIdentityParams(i).identity, tags: tagsOf(i) },
      204,
    );
  });
  seedRow(`seed: addIdentityTag (3 tags), ${SEED_IN_FLIGHT} in flight`, tags);
  log(`seeded ${TOTAL} identities with 3 tags each`);
  return { rows, notes };
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = load();
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetgate-bench-'));
  let gateway: RunningGateway | undefined;
  let client: ApiClient | undefined;
  const watchdog = setTimeout(() => {
    log(`the bench exceeded its ${TIME_BUDGET_MS / 1000} s budget; stopping`);
    gateway?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(1);
  }, TIME_BUDGET_MS);
  try {
    log(`machine: ${machine()}, load average ${loadBefore}`);
    gateway = await startGateway(ROOT, dataDir);
    client = createApiClient(gateway.port, gateway.token, SEED_IN_FLIGHT);
    const { rows, notes } = await seed(client, gateway.child.pid);
    client.close();
    await gateway.stop();

    const seeded = performance.now();
    // No API sets lastseen yet (device connectivity comes later): write it with the gateway stopped.
    const updated = writeLastseen(join(dataDir, 'fleetgate.db'), Date.now() * 1000);
    log(`lastseen written into ${updated} identities with the gateway stopped`);

    gateway = await startGateway(ROOT, dataDir);
    client = createApiClient(gateway.port, gateway.token, 1);
    const statuses = Array.from({ length: TOTAL }, (_, i) => statusOf(i));
    rows.push(
      ...(await runQueries(
        client,
        {
          provisioned: statuses.filter((s) => s === 'provisioned').length,
          whitelistedOrExpired: statuses.filter((s) => s === 'whitelisted' || s === 'expired').length,
        },
        { requests: QUERY_REQUESTS, warmup: 20, gatewayPid: gateway.child.pid, log },
      )),
    );

    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    process.stdout.write(
      [
        '',
        `Machine: ${machine()}; load average (1 min) ${loadBefore} at start, ${load()} at end`,
        `Fleet: ${TOTAL.toLocaleString('en-US')} identities × 3 tags (site: ${SITES} values, type: ${TYPES.length}, fw: ${FIRMWARES}), ` +
          'seeded through the API; lastseen written into the SQLite file with the gateway stopped',
        `Reads: ${QUERY_REQUESTS} sequential requests per case after 20 checked warm-up requests, on a restarted gateway`,
        `Time: seed ${seconds(seeded - started)} s, total ${seconds(performance.now() - started)} s`,
        '',
        markdownTable(rows),
        '',
        ...notes,
        '',
      ].join('\n'),
    );
    if (rows.some((r) => r.met === false)) process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    client?.close();
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
