import { connect, type Socket } from 'node:net';

export interface Reply {
  status: number;
  body: unknown;
}

export interface ApiClient {
  /** POST /api/v1/device2/<operation> with a JSON body over a kept-alive connection. */
  call(operation: string, params: unknown): Promise<Reply>;
  close(): void;
}

interface Pending {
  request: Buffer;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * One HTTP/1.1 keep-alive connection, one request at a time. A deliberately small client (a few
 * µs of CPU per request, against about 100 µs for node:http) so that on a small machine the load
 * generator takes as little CPU as possible from the gateway it measures. It understands exactly
 * what the gateway sends: a status line, headers with Content-Length, and a body.
 */
class Connection {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private current: Pending | undefined;
  private failure: Error | undefined;

  constructor(port: number, onIdle: (connection: Connection) => void) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      const reply = this.parse();
      if (!reply || !this.current) return;
      const { resolve } = this.current;
      this.current = undefined;
      resolve(reply);
      onIdle(this);
    });
    const fail = (error: Error) => {
      this.failure = error;
      this.current?.reject(error);
      this.current = undefined;
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed by the gateway')));
  }

  send(pending: Pending): void {
    if (this.failure) return pending.reject(this.failure);
    this.current = pending;
    this.socket.write(pending.request);
  }

  private parse(): Reply | undefined {
    const end = this.buffer.indexOf(HEAD_END);
    if (end < 0) return undefined;
    const head = this.buffer.toString('latin1', 0, end);
    if (/\r\ntransfer-encoding:/i.test(head)) throw new Error('chunked responses are not supported');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return undefined;
    const text = this.buffer.toString('utf8', end + 4, end + 4 + length);
    this.buffer = this.buffer.subarray(end + 4 + length);
    return { status: Number(head.slice(9, 12)), body: text === '' ? undefined : JSON.parse(text) };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A pool of `connections` keep-alive connections; calls beyond that wait for a free one. */
export function createApiClient(port: number, token: string, connections: number): ApiClient {
  const idle: Connection[] = [];
  const all: Connection[] = [];
  const waiting: Pending[] = [];
  const onIdle = (connection: Connection) => {
    const next = waiting.shift();
    if (next) connection.send(next);
    else idle.push(connection);
  };
  const headers = `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n`;
  return {
    call(operation, params) {
      const payload = Buffer.from(JSON.stringify(params));
      const request = Buffer.concat([
        Buffer.from(
          `POST /api/v1/device2/${operation} HTTP/1.1\r\n${headers}Content-Length: ${payload.length}\r\n\r\n`,
          'latin1',
        ),
        payload,
      ]);
      return new Promise<Reply>((resolve, reject) => {
        const pending = { request, resolve, reject };
        let connection = idle.pop();
        if (!connection && all.length < connections) {
          connection = new Connection(port, onIdle);
          all.push(connection);
        }
        if (connection) connection.send(pending);
        else waiting.push(pending);
      });
    },
    close() {
      for (const connection of all) connection.close();
    },
  };
}

/** Calls and throws unless the answer has the expected status. */
export async function expectCall(
  client: ApiClient,
  operation: string,
  params: unknown,
  status = 200,
): Promise<unknown> {
  const reply = await client.call(operation, params);
  if (reply.status !== status) {
    throw new Error(
      `${operation} answered ${reply.status}, expected ${status}: ${JSON.stringify(reply.body)}`,
    );
  }
  return reply.body;
}
