import { connect, type Socket } from 'node:net';
import {
  DISCONNECT,
  encodeConnect,
  encodePuback,
  PACKET,
  PacketReader,
  packetIdOf,
  publishTemplate,
  stampPacketId,
  type Packet,
} from './mqtt-wire.js';

export interface Device {
  clientId: string;
  username?: string;
  password?: string;
}

export interface Tally {
  /** Failures by reason ("CONNACK 5", "closed before CONNACK", an error message), and how often. */
  failures: Record<string, number>;
}

export const now = () => performance.timeOrigin + performance.now();

/** This process's CPU time (user + system) between two epoch times, read by timers. */
export function cpuWindow(from: number, until: number): { ms(): number } {
  let start: NodeJS.CpuUsage | undefined;
  let used: NodeJS.CpuUsage | undefined;
  const first = setTimeout(() => (start = process.cpuUsage()), Math.max(0, from - now()));
  const last = setTimeout(() => (used = process.cpuUsage(start)), Math.max(0, until - now()));
  return {
    ms() {
      clearTimeout(first);
      clearTimeout(last);
      used ??= process.cpuUsage(start);
      return (used.user + used.system) / 1000;
    },
  };
}

export function countFailure(tally: Tally, reason: string): void {
  tally.failures[reason] = (tally.failures[reason] ?? 0) + 1;
}

/** Sends `count` new PUBLISHes in one write. */
type Sender = (count: number) => void;

/**
 * One device connection. It answers the server's QoS 1 PUBLISHes (a gateway may push set values)
 * and reports CONNACK and PUBACKs to its owner.
 */
export class MqttDevice {
  readonly socket: Socket;
  private readonly reader = new PacketReader();
  private connacked = false;

  constructor(
    port: number,
    device: Device,
    options: { keepalive: number; localAddress?: string },
    handlers: { connack(code: number): void; pubacks(count: number): void; closed(reason: string): void },
  ) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true, localAddress: options.localAddress });
    this.socket.on('connect', () =>
      this.socket.write(encodeConnect({ ...device, keepalive: options.keepalive })),
    );
    this.socket.on('data', (chunk: Buffer) => {
      let acks = 0;
      let packets: Packet[];
      try {
        packets = this.reader.push(chunk);
      } catch (error) {
        this.socket.destroy(error as Error);
        return;
      }
      for (const p of packets) {
        if (p.type === PACKET.PUBACK) acks++;
        else if (p.type === PACKET.CONNACK) {
          this.connacked = true;
          handlers.connack(p.body[1] ?? -1);
        } else if (p.type === PACKET.PUBLISH && ((p.flags >> 1) & 3) === 1) {
          this.socket.write(encodePuback(packetIdOf(p)));
        }
      }
      if (acks > 0) handlers.pubacks(acks);
    });
    // Reported once: an error is followed by a close.
    let gone = false;
    const closed = (reason: string) => {
      if (gone) return;
      gone = true;
      handlers.closed(reason);
    };
    this.socket.on('error', (error) => closed(error.message));
    this.socket.on('close', () => closed(this.connacked ? 'closed by the server' : 'closed before CONNACK'));
  }
}

export interface PublishJob {
  port: number;
  devices: Device[];
  topic: string;
  inFlight: number;
  /** Epoch ms: counting starts here (after the warm-up) and stops at `measureUntil`. */
  measureFrom: number;
  measureUntil: number;
}

export interface PublishResult extends Tally {
  connected: number;
  /** PUBACKs received within the measured window. */
  acked: number;
  /** PUBACKs in each whole second of the window. */
  perSecond: number[];
  cpuMs: number;
}

const PAYLOADS = Array.from({ length: 100 }, (_, i) => (20 + i / 10).toFixed(1));

/**
 * Every device keeps `inFlight` QoS 1 PUBLISHes outstanding, sending a new one for each PUBACK,
 * until `measureUntil`; PUBACKs are counted per second between `measureFrom` and `measureUntil`.
 */
export async function runPublish(job: PublishJob): Promise<PublishResult> {
  const result: PublishResult = { connected: 0, acked: 0, perSecond: [], cpuMs: 0, failures: {} };
  const seconds = Math.max(1, Math.round((job.measureUntil - job.measureFrom) / 1000));
  result.perSecond = Array.from({ length: seconds }, () => 0);
  const templates = PAYLOADS.map((value) => publishTemplate(job.topic, value));
  const size = Math.max(...templates.map((t) => t.bytes.length));
  const cpu = cpuWindow(job.measureFrom, job.measureUntil);

  await new Promise<void>((resolve) => {
    let open = job.devices.length;
    const done = () => {
      if (--open === 0) resolve();
    };
    job.devices.forEach((device, index) => {
      let nextId = 0;
      let sent = 0;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        mqtt.socket.end(DISCONNECT);
        done();
      };
      const send: Sender = (count) => {
        const batch = Buffer.allocUnsafe(count * size);
        let at = 0;
        for (let i = 0; i < count; i++) {
          const template = templates[(index + sent++) % templates.length]!;
          template.bytes.copy(batch, at);
          nextId = (nextId % 65535) + 1;
          stampPacketId(batch, at + template.idOffset, nextId);
          at += template.bytes.length;
        }
        mqtt.socket.write(batch.subarray(0, at));
      };
      let outstanding = 0;
      let connacked = false;
      const mqtt = new MqttDevice(
        job.port,
        device,
        { keepalive: 0 },
        {
          connack(code) {
            if (code !== 0) {
              countFailure(result, `CONNACK ${code}`);
              return finish();
            }
            result.connected++;
            connacked = true;
            outstanding = job.inFlight;
            send(job.inFlight);
          },
          pubacks(count) {
            const t = now();
            outstanding -= count;
            if (t >= job.measureFrom && t < job.measureUntil) {
              result.acked += count;
              const second = Math.min(seconds - 1, Math.floor((t - job.measureFrom) / 1000));
              result.perSecond[second]! += count;
            }
            if (t < job.measureUntil) {
              outstanding += count;
              send(count);
            } else if (outstanding === 0) finish();
          },
          closed(reason) {
            if (!finished) countFailure(result, reason);
            finish();
          },
        },
      );
      // A device whose CONNACK or last PUBACKs never come still stops a little after the window.
      setTimeout(
        () => {
          if (finished) return;
          countFailure(result, connacked ? 'PUBACKs missing 5 s after the window' : 'no CONNACK');
          finish();
        },
        Math.max(0, job.measureUntil - now()) + 5_000,
      ).unref();
    });
  });
  result.cpuMs = cpu.ms();
  return result;
}
