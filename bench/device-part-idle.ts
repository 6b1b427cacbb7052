import { deal } from './generators.js';
import {
  bareTarget,
  describeFailures,
  fixed,
  fleetgateTarget,
  int,
  mergeFailures,
  runTarget,
  sleep,
  table,
  yesNo,
  type PartContext,
  type PartReport,
  type Target,
} from './device-report.js';
import { medianRound } from './device-rounds.js';
import { mqttDevice } from './fleetgate-process.js';
import type { IdleResult } from './mqtt-idle.js';
import type { Tally } from './mqtt-load.js';
import { fileDescriptors, rssKb } from './server-process.js';
import { processCpuMs } from './stats.js';

const AEDES = 'aedes 1.2 (bare)';
const REQUESTED = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_IDLE_CONCURRENCY ?? 100);
/** Connections per source address: far below the 28,000 ephemeral ports each address has. */
const PER_ADDRESS = 100;
/** Files a server may still open beside its connections (log, database, a few API sockets). */
const SPARE_FILES = 64;

interface Measured {
  server: string;
  attempted: number;
  connected: number;
  /** CONNACKs per second. */
  rate: number;
  cpuPerConnectUs: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  kbPerConnection: number;
  generatorCores: number;
  failures: string;
}

/** Source addresses 127.<octet>.x.y, a distinct /16 per server so no TIME_WAIT is shared. */
function sourceAddresses(octet: number, connections: number): string[] {
  const count = Math.ceil(connections / PER_ADDRESS);
  return Array.from({ length: count }, (_, i) => `127.${octet}.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}

/**
 * How many connections the server can hold: its open files limit, less what it already has open
 * and a margin; each generator holds its share under the bench's own limit.
 */
function capacity(pid: number, generators: number, notes: string[], label: string): number {
  const server = fileDescriptors(pid);
  const generator = fileDescriptors('self').limit;
  const fit = Math.min(server.limit - server.open - SPARE_FILES, (generator - SPARE_FILES) * generators);
  const need = `${label}: ${int(REQUESTED)} connections need`;
  if (fit < REQUESTED && !notes.some((note) => note.startsWith(need)))
    notes.push(
      `${need} an open files limit of at least ` +
        `${int(REQUESTED + server.open + SPARE_FILES)} in the server (it has ${int(server.open)} files open, ` +
        `limit ${int(server.limit)}; raise it with \`ulimit -n\` as a privileged user): measured with ${int(fit)}`,
    );
  return Math.min(REQUESTED, fit);
}

async function measure(
  context: PartContext,
  target: Target,
  octet: number,
  count: number,
): Promise<Measured> {
  const devices = Array.from({ length: count }, (_, n) => mqttDevice(n));
  const addresses = sourceAddresses(octet, count);
  const generators = context.generators;
  const perGenerator = Math.max(1, Math.floor(CONCURRENCY / generators.length));
  await sleep(1_000);
  const rssBeforeKb = rssKb(target.server.pid);
  const cpuBefore = processCpuMs(target.server.pid);
  const shares = deal(devices, generators.length);
  const results = await Promise.all(
    shares.map((share, i) =>
      generators[i]!.run<IdleResult>({
        kind: 'idle-open',
        port: target.port,
        devices: share,
        // Each generator its own addresses: two sockets never compete for a port.
        localAddresses: addresses.filter((_, a) => a % generators.length === i),
        concurrency: perGenerator,
      }),
    ),
  );
  const cpuMs = processCpuMs(target.server.pid) - cpuBefore;
  const startedAt = Math.min(...results.map((r) => r.startedAt));
  const lastConnackAt = Math.max(...results.map((r) => r.lastConnackAt));
  const connected = results.reduce((sum, r) => sum + r.connected, 0);
  // Let lazily allocated buffers and the garbage collector settle before reading memory.
  await sleep(3_000);
  const rssAfterKb = rssKb(target.server.pid);
  const late = await Promise.all(generators.map((g) => g.run<Tally>({ kind: 'idle-close' })));
  const failures = describeFailures(mergeFailures([...results, ...late]));
  return {
    server: target.server.name,
    attempted: count,
    connected,
    rate: (connected / (lastConnackAt - startedAt)) * 1000,
    cpuPerConnectUs: (cpuMs * 1000) / connected,
    rssBeforeKb,
    rssAfterKb,
    kbPerConnection: (rssAfterKb - rssBeforeKb) / connected,
    generatorCores: results.reduce((sum, r) => sum + r.cpuMs, 0) / (lastConnackAt - startedAt),
    failures: failures + (target.server.exited() ? ' (the server exited)' : ''),
  };
}

/** Part 2: many idle, authenticated MQTT connections: memory each, and handshakes per second. */
export async function idleConnections(context: PartContext): Promise<PartReport> {
  // Each round starts both servers afresh (memory is measured from a fresh process), aedes first.
  const measured = new Map<string, Measured[]>();
  const notes: string[] = [];
  // A fresh /16 of source addresses per run and server: the previous run's TIME_WAITs are elsewhere.
  const first = 2 * (Math.floor(Date.now() / 1000) % 100);
  let runs = 0;
  const run = async (label: string, start: () => Promise<Target>) => {
    const octet = 10 + ((first + runs++) % 240);
    const result = await runTarget(context, `idle connections: ${label}`, start, async (target) => {
      const count = capacity(target.server.pid, context.generators.length, notes, label);
      if (target.addDevices) {
        const rate = await target.addDevices(count);
        context.log(`idle connections: ${label}: ${int(count)} identities added (${int(rate)}/s)`);
      }
      return { ...(await measure(context, target, octet, count)), server: label };
    });
    if (typeof result === 'string') notes.push(result);
    else {
      measured.set(label, [...(measured.get(label) ?? []), result]);
      context.log(
        `idle connections: ${label}: ${int(result.connected)} connected, ${int(result.rate)}/s, ` +
          `${fixed(result.kbPerConnection, 1)} KB each ${result.failures}`,
      );
    }
  };
  for (let round = 0; round < context.rounds; round++) {
    await run(AEDES, () => bareTarget(context.root, 'bare-aedes.ts', 'mqtt'));
    await run('fleetgate', () => fleetgateTarget(context.root, 'mqtt', 0));
  }

  const medians = new Map([...measured].map(([label, rounds]) => [label, medianRound(rounds)]));
  const fleetgate = medians.get('fleetgate');
  const aedes = medians.get(AEDES);
  const several = context.rounds > 1;
  let failed =
    notes.some((note) => note.includes(' failed: ')) ||
    [...measured.values()].some((rounds) => rounds.some((m) => m.failures !== ''));
  if (fleetgate) {
    const memoryMet = fleetgate.kbPerConnection <= 20;
    const rateMet = fleetgate.rate >= 3000;
    const aedesRounds = measured.get(AEDES) ?? [];
    const perRound = several
      ? ` (fleetgate / aedes per round: ${(measured.get('fleetgate') ?? [])
          .map((m, i) => fixed(m.rate / (aedesRounds[i]?.rate ?? Number.NaN)))
          .join(', ')})`
      : '';
    notes.unshift(
      `fleetgate: ${fixed(fleetgate.kbPerConnection, 1)} KB per connection (target ≤ 20): ${yesNo(memoryMet)}; ` +
        `${int(fleetgate.rate)} CONNACKs/s (target ≥ 3,000): ${yesNo(rateMet)}${perRound}`,
    );
    failed ||= !memoryMet || !rateMet;
  }
  return {
    title:
      `Idle connections: ${int(REQUESTED)} authenticated MQTT connections, ${CONCURRENCY} handshakes at a time` +
      (several ? `, ${context.rounds} rounds (each server's median round)` : ''),
    lines: [
      ...table(
        [
          'Server',
          'Connected',
          'CONNACKs/s',
          ...(several ? ['Each round'] : []),
          'vs aedes',
          'Server CPU per connect (µs)',
          'RSS before (MiB)',
          'RSS after (MiB)',
          'KB per connection',
          'Generator CPU (cores)',
          'Failures',
        ],
        [...medians].map(([label, m]) => [
          label,
          `${int(m.connected)} / ${int(m.attempted)}`,
          int(m.rate),
          ...(several ? [(measured.get(label) ?? []).map((r) => int(r.rate)).join(' / ')] : []),
          fixed(m.rate / (aedes?.rate ?? Number.NaN)),
          int(m.cpuPerConnectUs),
          fixed(m.rssBeforeKb / 1024, 1),
          fixed(m.rssAfterKb / 1024, 1),
          fixed(m.kbPerConnection, 1),
          fixed(m.generatorCores),
          [...new Set((measured.get(label) ?? []).map((r) => r.failures).filter(Boolean))].join('; '),
        ]),
      ),
      '',
      ...[...new Set(notes)],
    ],
    failed,
  };
}
