import { countFailure, MqttDevice, now, type Device, type Tally } from './mqtt-load.js';

const CONNACK_TIMEOUT_MS = 30_000;

export interface IdleJob {
  port: number;
  devices: Device[];
  /** Source addresses (127.x.y.z) the connections are spread over, so no one runs out of ports. */
  localAddresses: string[];
  /** Connections whose CONNACK has not come yet, at most. */
  concurrency: number;
}

export interface IdleResult extends Tally {
  connected: number;
  /** Epoch ms: first connect attempt, and last CONNACK. */
  startedAt: number;
  lastConnackAt: number;
  cpuMs: number;
}

/**
 * Opens one connection per device, `concurrency` connect-and-authenticate handshakes at a time,
 * and keeps the accepted ones open and silent (keep-alive 0) until `close()`, which tells how many
 * the server dropped meanwhile.
 */
export function openIdle(job: IdleJob): { ready: Promise<IdleResult>; close(): Tally } {
  const result: IdleResult = { connected: 0, startedAt: now(), lastConnackAt: 0, cpuMs: 0, failures: {} };
  const open: MqttDevice[] = [];
  // Connections lost after their CONNACK: counted apart, since `ready` has already answered.
  const late: Tally = { failures: {} };
  const cpuStart = process.cpuUsage();
  let next = 0;
  let settled = 0;
  let closing = false;
  const ready = new Promise<IdleResult>((resolve) => {
    const step = () => {
      if (++settled === job.devices.length) {
        const cpu = process.cpuUsage(cpuStart);
        result.cpuMs = (cpu.user + cpu.system) / 1000;
        resolve(result);
      }
      start();
    };
    const start = () => {
      if (next >= job.devices.length) return;
      const index = next++;
      // 'done': refused, timed out or lost, and already counted.
      let state: 'connecting' | 'open' | 'done' = 'connecting';
      const fail = (reason: string) => {
        state = 'done';
        countFailure(result, reason);
        device.socket.destroy();
        step();
      };
      const device = new MqttDevice(
        job.port,
        job.devices[index]!,
        { keepalive: 0, localAddress: job.localAddresses[index % job.localAddresses.length] },
        {
          connack(code) {
            clearTimeout(timer);
            if (code !== 0) return fail(`CONNACK ${code}`);
            state = 'open';
            result.connected++;
            result.lastConnackAt = now();
            step();
          },
          pubacks() {},
          closed(reason) {
            if (closing || state === 'done') return;
            if (state === 'connecting') return fail(reason);
            state = 'done';
            countFailure(late, `after CONNACK: ${reason}`);
          },
        },
      );
      // A server that never answers must not hold the bench until its watchdog.
      const timer = setTimeout(() => {
        if (state === 'connecting') fail(`no CONNACK within ${CONNACK_TIMEOUT_MS / 1000} s`);
      }, CONNACK_TIMEOUT_MS);
      device.socket.once('close', () => clearTimeout(timer));
      open.push(device);
    };
    if (job.devices.length === 0) resolve(result);
    for (let i = 0; i < job.concurrency; i++) start();
  });
  return {
    ready,
    close() {
      closing = true;
      for (const device of open) device.socket.destroy();
      return late;
    },
  };
}
