import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { runHttpWrites } from './http-load.js';
import { now } from './mqtt-load.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Answers 204 to the token `good` and 401 with a JSON body to anyone else; records what it read. */
async function startServer(seen: { path?: string; type?: string; body: string[] }): Promise<number> {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.path = request.url;
      seen.type = request.headers['content-type'];
      seen.body.push(body);
      if (request.headers['x-exosite-cik'] === 'good') response.writeHead(204).end();
      else response.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"UNAUTHORIZED"}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('the HTTP device-write generator', () => {
  it('sends form writes over kept-alive connections and counts the answers by status', async () => {
    const seen = { body: [] as string[] };
    const port = await startServer(seen);
    const start = now();
    const result = await runHttpWrites({
      port,
      tokens: ['good', 'bad'],
      path: '/onep:v1/stack/alias',
      body: 'temp=23.5',
      measureFrom: start,
      measureUntil: start + 300,
    });
    expect(result.failures).toEqual({});
    expect(Object.keys(result.statuses).sort()).toEqual(['204', '401']);
    expect(result.perSecond.reduce((a, b) => a + b, 0)).toBe(
      result.statuses['204']! + result.statuses['401']!,
    );
    expect(seen).toMatchObject({ path: '/onep:v1/stack/alias', type: 'application/x-www-form-urlencoded' });
    expect(new Set(seen.body)).toEqual(new Set(['temp=23.5']));
  });
});
