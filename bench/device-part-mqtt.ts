import { deal } from './generators.js';
import {
  addSeconds,
  bareTarget,
  fleetgateTarget,
  describeFailures,
  findMosquitto,
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
import { mqttDevice } from './fleetgate-process.js';
import type { PublishResult } from './mqtt-load.js';
import { freePort, startServer, type ServerProcess } from './server-process.js';

export const MQTT_DEVICES = Number(process.env.BENCH_MQTT_DEVICES ?? 50);
export const MQTT_IN_FLIGHT = Number(process.env.BENCH_MQTT_IN_FLIGHT ?? 32);

interface Measured {
  server: string;
  connected: number;
  rate: number;
  perSecond: number[];
  serverCores: number;
  generatorCores: number;
  failures: string;
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
    server: server.name,
    connected: results.reduce((sum, r) => sum + r.connected, 0),
    rate: results.reduce((sum, r) => sum + r.acked, 0) / seconds,
    perSecond: addSeconds(results.map((r) => r.perSecond)),
    serverCores: serverCpu() / context.durationMs,
    generatorCores: results.reduce((sum, r) => sum + r.cpuMs, 0) / context.durationMs,
    failures: describeFailures(mergeFailures(results)) + (server.exited() ? ' (the server exited)' : ''),
  };
}

/** Part 1: QoS 1 ingest against bare aedes, mosquitto and fleetgate, one after the other. */
export async function mqttIngest(context: PartContext): Promise<PartReport> {
  const measured: Measured[] = [];
  const notes: string[] = [];
  const run = async (label: string, start: () => Promise<Target>) => {
    const result = await runTarget(context, `mqtt ingest: ${label}`, start, async (target) => ({
      ...(await measure(context, target.server, target.port)),
      server: label,
    }));
    if (typeof result === 'string') notes.push(result);
    else {
      measured.push(result);
      context.log(`mqtt ingest: ${label}: ${int(result.rate)} msgs/s ${result.failures}`);
    }
  };

  await run('aedes 1.2 (bare)', () => bareTarget(context.root, 'bare-aedes.ts', 'mqtt'));
  const mosquitto = findMosquitto();
  if (mosquitto) {
    await run('mosquitto', async () => {
      const port = await freePort();
      const server = await startServer({
        name: 'mosquitto',
        command: mosquitto,
        args: ['-p', String(port)],
        port,
      });
      return { server, port, close: () => server.stop() };
    });
  } else {
    notes.push(
      'mosquitto: skipped, no `mosquitto` binary found (apt-get install mosquitto, or set BENCH_MOSQUITTO)',
    );
    context.log(notes.at(-1)!);
  }
  await run('fleetgate', () => fleetgateTarget(context.root, 'mqtt', MQTT_DEVICES));

  const aedes = measured.find((m) => m.server.startsWith('aedes'));
  const fleetgate = measured.find((m) => m.server === 'fleetgate');
  let failed = notes.some((note) => note.includes(' failed: ')) || measured.some((m) => m.failures !== '');
  if (fleetgate && aedes) {
    const ratio = fleetgate.rate / aedes.rate;
    notes.unshift(`fleetgate / aedes = ${fixed(ratio)} (target ≥ 0.5): ${yesNo(ratio >= 0.5)}`);
    if (ratio < 0.5) failed = true;
  }
  return {
    title: `MQTT ingest: ${MQTT_DEVICES} devices × ${MQTT_IN_FLIGHT} QoS 1 PUBLISHes in flight`,
    lines: [
      ...table(
        [
          'Server',
          'Connected',
          'Acked msgs/s',
          'Per second min / median / max',
          'Server CPU (cores)',
          'Generator CPU (cores)',
          'vs aedes',
          'Failures',
        ],
        ['---', '---:', '---:', '---:', '---:', '---:', '---:', '---'],
        measured.map((m) => [
          m.server,
          `${m.connected} / ${MQTT_DEVICES}`,
          int(m.rate),
          secondsSpread(m.perSecond),
          fixed(m.serverCores),
          fixed(m.generatorCores),
          aedes ? fixed(m.rate / aedes.rate) : '–',
          m.failures,
        ]),
      ),
      '',
      ...notes,
    ],
    failed,
  };
}
