import { deal } from './generators.js';
import {
  addSeconds,
  bareTarget,
  fleetgateTarget,
  describeFailures,
  fixed,
  int,
  mergeFailures,
  now,
  runTarget,
  secondsSpread,
  serverCpuWindow,
  table,
  yesNo,
  type PartContext,
  type PartReport,
  type Target,
} from './device-report.js';
import { deviceToken } from './fleetgate-process.js';
import type { HttpWriteResult } from './http-load.js';
import type { ServerProcess } from './server-process.js';

const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 50);

interface Measured {
  server: string;
  rate: number;
  perSecond: number[];
  serverCores: number;
  generatorCores: number;
  /** Answers other than 204, and connection failures. */
  failures: string;
}

async function measure(context: PartContext, server: ServerProcess, port: number): Promise<Measured> {
  const tokens = Array.from({ length: CONNECTIONS }, (_, n) => deviceToken(n));
  const measureFrom = now() + 200 + context.warmupMs;
  const measureUntil = measureFrom + context.durationMs;
  const serverCpu = serverCpuWindow(server.pid, measureFrom, measureUntil);
  const results = await Promise.all(
    deal(tokens, context.generators.length).map((share, i) =>
      context.generators[i]!.run<HttpWriteResult>({
        kind: 'http-write',
        port,
        tokens: share,
        path: '/onep:v1/stack/alias',
        body: 'temp=23.5',
        measureFrom,
        measureUntil,
      }),
    ),
  );
  const statuses = mergeFailures(results.map((r) => ({ failures: r.statuses })));
  const { '204': ok = 0, ...others } = statuses;
  const unexpected = Object.fromEntries(
    Object.entries(others).map(([status, n]) => [`answered ${status}`, n]),
  );
  return {
    server: server.name,
    rate: ok / (context.durationMs / 1000),
    perSecond: addSeconds(results.map((r) => r.perSecond)),
    serverCores: serverCpu() / context.durationMs,
    generatorCores: results.reduce((sum, r) => sum + r.cpuMs, 0) / context.durationMs,
    failures: [describeFailures(unexpected), describeFailures(mergeFailures(results))]
      .filter(Boolean)
      .join(', '),
  };
}

/** Part 3: device writes over keep-alive HTTP, bare Fastify against fleetgate's device port. */
export async function deviceHttpWrites(context: PartContext): Promise<PartReport> {
  const measured: Measured[] = [];
  const notes: string[] = [];
  const run = async (label: string, start: () => Promise<Target>) => {
    const result = await runTarget(context, `http writes: ${label}`, start, async (target) => ({
      ...(await measure(context, target.server, target.port)),
      server: label,
    }));
    if (typeof result === 'string') notes.push(result);
    else {
      measured.push(result);
      context.log(`http writes: ${label}: ${int(result.rate)} req/s ${result.failures}`);
    }
  };
  await run('Fastify 5 (bare)', () => bareTarget(context.root, 'bare-fastify.ts', 'device-http'));
  await run('fleetgate', () => fleetgateTarget(context.root, 'device-http', CONNECTIONS));

  const fastify = measured.find((m) => m.server.startsWith('Fastify'));
  const fleetgate = measured.find((m) => m.server === 'fleetgate');
  let failed = notes.length > 0 || measured.some((m) => m.failures !== '');
  if (fleetgate && fastify) {
    const ratio = fleetgate.rate / fastify.rate;
    notes.unshift(`fleetgate / Fastify = ${fixed(ratio)} (target ≥ 0.5): ${yesNo(ratio >= 0.5)}`);
    if (ratio < 0.5) failed = true;
  }
  return {
    title: `HTTP device writes: ${CONNECTIONS} keep-alive connections, POST /onep:v1/stack/alias temp=23.5 → 204`,
    lines: [
      ...table(
        [
          'Server',
          '204 answers/s',
          'Per second min / median / max',
          'Server CPU (cores)',
          'Generator CPU (cores)',
          'vs Fastify',
          'Failures',
        ],
        ['---', '---:', '---:', '---:', '---:', '---:', '---'],
        measured.map((m) => [
          m.server,
          int(m.rate),
          secondsSpread(m.perSecond),
          fixed(m.serverCores),
          fixed(m.generatorCores),
          fastify ? fixed(m.rate / fastify.rate) : '–',
          m.failures,
        ]),
      ),
      '',
      ...notes,
    ],
    failed,
  };
}
