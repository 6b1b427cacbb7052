import { deal } from './generators.js';
import {
  addSeconds,
  bareTarget,
  describeFailures,
  findMosquitto,
  fleetgateTarget,
  mergeFailures,
  now,
  serverCpuWindow,
  type PartContext,
  type PartReport,
} from './device-report.js';
import { compareInRounds, comparisonReport, type Contender, type TimedMeasure } from './device-rounds.js';
import { mqttDevice } from './fleetgate-process.js';
import type { PublishResult } from './mqtt-load.js';
import { freePort, startServer, type ServerProcess } from './server-process.js';

export const MQTT_DEVICES = Number(process.env.BENCH_MQTT_DEVICES ?? 50);
export const MQTT_IN_FLIGHT = Number(process.env.BENCH_MQTT_IN_FLIGHT ?? 32);

interface Measured extends TimedMeasure {
  connected: number;
}

/** Publishes from every device, spread over the generators, against the server on `port`. */
async function measure(context: PartContext, server: ServerProcess, port: number): Promise<Measured> {
  const devices = Array.from({ length: MQTT_DEVICES }, (_, n) => mqttDevice(n));
  // Time for the connections before the warm-up starts counting.
  const measureFrom = now() + 500 + context.warmupMs;
  const measureUntil = measureFrom + context.durationMs;
  const serverCpu = serverCpuWindow(server.pid, measureFrom, measureUntil);
  const results = await Promise.all(
    deal(devices, context.generators.length).map((share, i) =>
      context.generators[i]!.run<PublishResult>({
        kind: 'publish',
        port,
        devices: share,
        topic: '$resource/temp',
        inFlight: MQTT_IN_FLIGHT,
        measureFrom,
        measureUntil,
      }),
    ),
  );
  const seconds = context.durationMs / 1000;
  return {
    connected: results.reduce((sum, r) => sum + r.connected, 0),
    rate: results.reduce((sum, r) => sum + r.acked, 0) / seconds,
    perSecond: addSeconds(results.map((r) => r.perSecond)),
    serverCores: serverCpu() / context.durationMs,
    generatorCores: results.reduce((sum, r) => sum + r.cpuMs, 0) / context.durationMs,
    failures: describeFailures(mergeFailures(results)) + (server.exited() ? ' (the server exited)' : ''),
  };
}

/** Part 1: QoS 1 ingest against bare aedes, mosquitto and fleetgate, in turn. */
export async function mqttIngest(context: PartContext): Promise<PartReport> {
  const contenders: Contender[] = [
    { label: 'aedes 1.2 (bare)', start: () => bareTarget(context.root, 'bare-aedes.ts', 'mqtt') },
  ];
  const skipped: string[] = [];
  const mosquitto = findMosquitto();
  if (mosquitto)
    contenders.push({
      label: 'mosquitto',
      async start() {
        const port = await freePort();
        const server = await startServer({
          name: 'mosquitto',
          command: mosquitto,
          args: ['-p', String(port)],
          port,
        });
        return { server, port, close: () => server.stop() };
      },
    });
  else {
    skipped.push(
      'mosquitto: skipped, no `mosquitto` binary found (apt-get install mosquitto, or set BENCH_MOSQUITTO)',
    );
    context.log(skipped[0]!);
  }
  contenders.push({ label: 'fleetgate', start: () => fleetgateTarget(context.root, 'mqtt', MQTT_DEVICES) });

  const { compared, notes } = await compareInRounds(context, 'mqtt ingest', contenders, (target) =>
    measure(context, target.server, target.port),
  );
  return {
    title: `MQTT ingest: ${MQTT_DEVICES} devices × ${MQTT_IN_FLIGHT} QoS 1 PUBLISHes in flight`,
    ...comparisonReport(
      context,
      compared,
      { failures: notes, info: skipped },
      {
        reference: 'aedes 1.2 (bare)',
        unit: 'Acked msgs/s',
        per: 'message',
        extra: { header: 'Connected', cell: (m: Measured) => `${m.connected} / ${MQTT_DEVICES}` },
      },
    ),
  };
}
