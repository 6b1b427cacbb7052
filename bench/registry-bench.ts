/**
 * Registry benchmark (`npm run bench:registry`): starts the real gateway process, drives it over
 * HTTP with keep-alive, and prints a markdown table. See BENCHMARKS.md for the method.
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
  fwValue,
  SITES,
  siteValue,
  statusOf,
  tagsOf,
  TYPES,
  writeLastseen,
} from './registry-data.js';
import { machine, markdownTable, runLoad, summarize, type Row } from './stats.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const TOTAL = Number(process.env.BENCH_IDENTITIES ?? 100_000);
const QUERY_REQUESTS = Number(process.env.BENCH_QUERY_REQUESTS ?? 300);
const ADD_PHASE_MS = 4_000;
const SEED_IN_FLIGHT = 16;
const TIME_BUDGET_MS = 240_000;

const rows: Row[] = [];
const log = (text: string) => process.stderr.write(`${text}\n`);

interface Expected {
  provisioned: number;
  whitelistedOrExpired: number;
}

async function addPhase(client: ApiClient, first: number, inFlight: number): Promise<number> {
  const result = await runLoad({ inFlight, durationMs: ADD_PHASE_MS, count: TOTAL - first }, async (i) => {
    await expectCall(client, 'addIdentity', addIdentityParams(first + i), 204);
  });
  const summary = summarize(result);
  rows.push({
    name: `addIdentity, ${inFlight === 1 ? 'sequential (1 in flight)' : `${inFlight} in flight`}`,
    summary,
    target: '≥ 5,000/s',
    met: summary.rate >= 5000,
  });
  log(`addIdentity ×${inFlight}: ${summary.rate.toFixed(0)}/s over ${result.count}`);
  return first + result.count;
}

async function seed(client: ApiClient): Promise<void> {
  let next = await addPhase(client, 0, 1);
  next = await addPhase(client, next, 8);
  const adds = await runLoad({ inFlight: SEED_IN_FLIGHT, count: TOTAL - next }, async (i) => {
    await expectCall(client, 'addIdentity', addIdentityParams(next + i), 204);
  });
  rows.push({
    name: `seed: addIdentity, ${SEED_IN_FLIGHT} in flight`,
    summary: summarize(adds),
    target: '',
    met: undefined,
  });
  log(`seeded ${TOTAL} identities`);
  const tags = await runLoad({ inFlight: SEED_IN_FLIGHT, count: TOTAL }, async (i) => {
    await expectCall(
      client,
      'addIdentityTag',
      { identity: addIdentityParams(i).identity, tags: tagsOf(i) },
      204,
    );
  });
  rows.push({
    name: `seed: addIdentityTag (3 tags), ${SEED_IN_FLIGHT} in flight`,
    summary: summarize(tags),
    target: '',
    met: undefined,
  });
  log(`tagged ${TOTAL} identities`);
}

interface Device {
  identity: string;
  lastseen: number | null;
  tags: { name: string; value: string }[];
}

type Check = (body: unknown, i: number) => void;

function checkList(predicate: (device: Device, i: number) => boolean): Check {
  return (body, i) => {
    const { devices } = body as { devices: Device[] };
    if (devices.length !== 50) throw new Error(`expected 50 devices, got ${devices.length}`);
    devices.forEach((d, k) => {
      if (!predicate(d, i)) throw new Error(`device ${d.identity} does not match the filter`);
      const before = devices[k - 1];
      if (before && (before.lastseen ?? 0) < (d.lastseen ?? 0))
        throw new Error('not ordered by lastseen desc');
    });
  };
}

const hasTag = (d: Device, name: string, test: (value: string) => boolean) =>
  d.tags.some((t) => t.name === name && test(t.value));

async function queryCase(
  client: ApiClient,
  name: string,
  operation: string,
  params: (i: number) => Record<string, unknown>,
  check: Check,
): Promise<void> {
  for (let i = 0; i < 20; i++) check(await expectCall(client, operation, params(i)), i); // warm-up
  const result = await runLoad({ inFlight: 1, count: QUERY_REQUESTS }, async (i) => {
    await expectCall(client, operation, params(i));
  });
  const summary = summarize(result);
  rows.push({ name, summary, target: 'median ≤ 20 ms', met: summary.median <= 20 });
  log(`${name}: median ${summary.median.toFixed(2)} ms, p95 ${summary.p95.toFixed(2)} ms`);
}

async function queries(client: ApiClient, expected: Expected): Promise<void> {
  const list = (extra: Record<string, unknown>) => ({ ...extra, order: 'lastseen.desc', limit: 50 });
  const site = (i: number) => siteValue((i * 37) % SITES);
  await queryCase(
    client,
    'listIdentities, tags site eq (1 % of fleet), lastseen.desc, limit 50',
    'listIdentities',
    (i) => list({ tags: JSON.stringify([{ name: 'site', operator: 'eq', value: site(i) }]) }),
    checkList((d, i) => hasTag(d, 'site', (v) => v === site(i))),
  );
  const low = (i: number) => i % (FIRMWARES - 5);
  await queryCase(
    client,
    'listIdentities, tags fw gte+lte (25 %), lastseen.desc, limit 50',
    'listIdentities',
    (i) =>
      list({
        tags: JSON.stringify([
          { name: 'fw', operator: 'gte', value: fwValue(low(i)) },
          { name: 'fw', operator: 'lte', value: fwValue(low(i) + 4) },
        ]),
      }),
    checkList((d, i) => hasTag(d, 'fw', (v) => v >= fwValue(low(i)) && v <= fwValue(low(i) + 4))),
  );
  const type = (i: number) => TYPES[i % TYPES.length]!;
  await queryCase(
    client,
    'listIdentities, tag + tag.value type (20 %), lastseen.desc, limit 50',
    'listIdentities',
    (i) => list({ tag: 'type', 'tag.value': type(i) }),
    checkList((d, i) => hasTag(d, 'type', (v) => v === type(i))),
  );
  await queryCase(
    client,
    'listIdentities, tags site eq + type eq (0.2 %), lastseen.desc, limit 50',
    'listIdentities',
    (i) =>
      list({
        tags: JSON.stringify([
          { name: 'site', operator: 'eq', value: site(i) },
          { name: 'type', operator: 'eq', value: type(i) },
        ]),
      }),
    (body, i) => {
      // About 200 match; a few site/type pairs may have fewer than 50.
      for (const d of (body as { devices: Device[] }).devices)
        if (!hasTag(d, 'site', (v) => v === site(i)) || !hasTag(d, 'type', (v) => v === type(i)))
          throw new Error(`device ${d.identity} does not match the filter`);
    },
  );
  const countCheck = (want: number) => (body: unknown) => {
    const { count } = body as { count: number };
    if (count !== want) throw new Error(`count ${count}, expected ${want}`);
  };
  await queryCase(
    client,
    'countIdentities, status provisioned',
    'countIdentities',
    () => ({ status: 'provisioned' }),
    countCheck(expected.provisioned),
  );
  await queryCase(
    client,
    'countIdentities, status whitelisted,expired',
    'countIdentities',
    () => ({ status: 'whitelisted,expired' }),
    countCheck(expected.whitelistedOrExpired),
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetgate-bench-'));
  let gateway: RunningGateway | undefined;
  let client: ApiClient | undefined;
  const watchdog = setTimeout(() => {
    log(`bench exceeded its ${TIME_BUDGET_MS / 1000} s budget; stopping`);
    gateway?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(1);
  }, TIME_BUDGET_MS);
  try {
    log(`machine: ${machine()}`);
    gateway = await startGateway(ROOT, dataDir);
    client = createApiClient(gateway.port, gateway.token, SEED_IN_FLIGHT);
    await seed(client);
    client.close();
    await gateway.stop();

    const seedEnd = performance.now();
    const updated = writeLastseen(join(dataDir, 'fleetgate.db'), Date.now() * 1000);
    log(`lastseen written to ${updated} identities with the gateway stopped`);

    gateway = await startGateway(ROOT, dataDir);
    client = createApiClient(gateway.port, gateway.token, 1);
    const statuses = Array.from({ length: TOTAL }, (_, i) => statusOf(i));
    await queries(client, {
      provisioned: statuses.filter((s) => s === 'provisioned').length,
      whitelistedOrExpired: statuses.filter((s) => s === 'whitelisted' || s === 'expired').length,
    });

    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    process.stdout.write(
      [
        '',
        `Machine: ${machine()}`,
        `Fleet: ${TOTAL.toLocaleString('en-US')} identities × 3 tags (site: ${SITES} values, type: ${TYPES.length}, fw: ${FIRMWARES}); ` +
          `lastseen written with the gateway stopped; query cases: ${QUERY_REQUESTS} sequential requests each after 20 warm-up`,
        `Time: seed ${seconds(seedEnd - started)} s, total ${seconds(performance.now() - started)} s`,
        '',
        markdownTable(rows),
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
