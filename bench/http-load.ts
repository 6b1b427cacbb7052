import { connect } from 'node:net';
import { countFailure, cpuWindow, now, type Tally } from './mqtt-load.js';

export interface HttpWriteJob {
  port: number;
  /** One keep-alive connection per token, each sending its requests one after the other. */
  tokens: string[];
  path: string;
  body: string;
  measureFrom: number;
  measureUntil: number;
}

export interface HttpWriteResult extends Tally {
  /** Responses within the measured window, by status. */
  statuses: Record<string, number>;
  perSecond: number[];
  cpuMs: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n');

/**
 * Device writes over keep-alive HTTP/1.1, on `node:net` for the same reason as the MQTT devices:
 * a few µs of CPU per request. It reads what both servers answer: a status line and headers,
 * then a body of Content-Length bytes, or chunks.
 */
export async function runHttpWrites(job: HttpWriteJob): Promise<HttpWriteResult> {
  const result: HttpWriteResult = { statuses: {}, perSecond: [], cpuMs: 0, failures: {} };
  const seconds = Math.max(1, Math.round((job.measureUntil - job.measureFrom) / 1000));
  result.perSecond = Array.from({ length: seconds }, () => 0);
  const cpu = cpuWindow(job.measureFrom, job.measureUntil);
  const body = Buffer.from(job.body);

  await Promise.all(
    job.tokens.map(
      (token) =>
        new Promise<void>((resolve) => {
          const request = Buffer.concat([
            Buffer.from(
              `POST ${job.path} HTTP/1.1\r\nHost: 127.0.0.1:${job.port}\r\nX-Exosite-CIK: ${token}\r\n` +
                `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
              'latin1',
            ),
            body,
          ]);
          const socket = connect({ host: '127.0.0.1', port: job.port, noDelay: true });
          let buffer: Buffer = Buffer.alloc(0);
          let finished = false;
          const timer = setTimeout(
            () => finish('no answer 5 s after the window'),
            Math.max(0, job.measureUntil - now()) + 5_000,
          );
          const finish = (failure?: string) => {
            if (finished) return;
            finished = true;
            clearTimeout(timer);
            if (failure) countFailure(result, failure);
            socket.destroy();
            resolve();
          };
          socket.on('connect', () => socket.write(request));
          socket.on('data', (chunk: Buffer) => {
            buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
            const end = buffer.indexOf(HEAD_END);
            if (end < 0) return;
            const head = buffer.toString('latin1', 0, end);
            let next: number;
            if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
              // Only error answers come chunked, if any: skip to the last chunk, no trailers.
              const last = buffer.indexOf(LAST_CHUNK, end + 2);
              if (last < 0) return;
              next = last + LAST_CHUNK.length;
            } else {
              next = end + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
              if (buffer.length < next) return;
            }
            buffer = buffer.subarray(next);
            const t = now();
            if (t >= job.measureFrom && t < job.measureUntil) {
              const status = head.slice(9, 12);
              result.statuses[status] = (result.statuses[status] ?? 0) + 1;
              result.perSecond[Math.min(seconds - 1, Math.floor((t - job.measureFrom) / 1000))]! += 1;
            }
            if (t >= job.measureUntil) return finish();
            if (/\r\nconnection: *close/i.test(head)) return finish('server closed the connection');
            socket.write(request);
          });
          socket.on('error', (error) => finish(error.message));
          socket.on('close', () => finish('closed by the server'));
        }),
    ),
  );
  result.cpuMs = cpu.ms();
  return result;
}
