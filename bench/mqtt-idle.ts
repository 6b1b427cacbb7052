import { countFailure, MqttDevice, now, type Device, type Tally } from './mqtt-load.js';

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
      let answered = false;
      let refused = false;
      const device = new MqttDevice(
        job.port,
        job.devices[index]!,
        { keepalive: 0, localAddress: job.localAddresses[index % job.localAddresses.length] },
        {
          connack(code) {
            answered = true;
            if (code === 0) {
              result.connected++;
              result.lastConnackAt = now();
            } else {
              countFailure(result, `CONNACK ${code}`);
              refused = true;
              device.socket.destroy();
            }
            step();
          },
          pubacks() {},
          closed(reason) {
            if (closing || refused) return;
            if (!answered) {
              answered = true;
              countFailure(result, reason);
              step();
            } else countFailure(late, `after CONNACK: ${reason}`);
          },
        },
      );
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
