import { deal } from './generators.js';
import {
  addSeconds,
  bareTarget,
  describeFailures,
  fleetgateTarget,
  mergeFailures,
  now,
  serverCpuWindow,
  type PartContext,
  type PartReport,
} from './device-report.js';
import { compareInRounds, comparisonReport, type TimedMeasure } from './device-rounds.js';
import { deviceToken } from './fleetgate-process.js';
import type { HttpWriteResult } from './http-load.js';
import type { ServerProcess } from './server-process.js';

const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 50);

/** Failures: answers other than 204, and connection failures. */
async function measure(context: PartContext, server: ServerProcess, port: number): Promise<TimedMeasure> {
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
    rate: ok / (context.durationMs / 1000),
    perSecond: addSeconds(results.map((r) => r.perSecond)),
    serverCores: serverCpu() / context.durationMs,
    generatorCores: results.reduce((sum, r) => sum + r.cpuMs, 0) / context.durationMs,
    failures: [describeFailures(unexpected), describeFailures(mergeFailures(results))]
      .filter(Boolean)
      .join(', '),
  };
}

/** Part 3: device writes over keep-alive HTTP, bare Fastify and fleetgate's device port in turn. */
export async function deviceHttpWrites(context: PartContext): Promise<PartReport> {
  const { compared, notes } = await compareInRounds(
    context,
    'http writes',
    [
      { label: 'Fastify 5 (bare)', start: () => bareTarget(context.root, 'bare-fastify.ts', 'device-http') },
      { label: 'fleetgate', start: () => fleetgateTarget(context.root, 'device-http', CONNECTIONS) },
    ],
    (target) => measure(context, target.server, target.port),
  );
  return {
    title: `HTTP device writes: ${CONNECTIONS} keep-alive connections, POST /onep:v1/stack/alias temp=23.5 → 204`,
    ...comparisonReport(
      context,
      compared,
      { failures: notes, info: [] },
      {
        reference: 'Fastify 5 (bare)',
        unit: '204 answers/s',
        per: 'request',
      },
    ),
  };
}
