import http from 'node:http';

export interface Reply {
  status: number;
  body: unknown;
}

export interface ApiClient {
  /** POST /api/v1/device2/<operation> with a JSON body over a kept-alive connection. */
  call(operation: string, params: unknown): Promise<Reply>;
  close(): void;
}

/** A plain node:http client with a keep-alive agent: no client library in the measurement. */
export function createApiClient(port: number, token: string, maxSockets: number): ApiClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const authorization = `Bearer ${token}`;
  return {
    call(operation, params) {
      const payload = JSON.stringify(params);
      return new Promise<Reply>((resolve, reject) => {
        const request = http.request(
          {
            agent,
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: `/api/v1/device2/${operation}`,
            headers: {
              authorization,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
            });
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(payload);
      });
    },
    close() {
      agent.destroy();
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
