import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpWebhookTransport } from './http-webhook-transport.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

async function receiver(handle: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handle(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const transport = createHttpWebhookTransport('fleetgate/test');
const post = (url: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
  transport.post({
    url,
    headers: { 'content-type': 'application/json', 'x-fleetgate-event-id': 'e1' },
    body: '{"type":"deleted"}',
    timeoutMs: options.timeoutMs ?? 5_000,
    signal: options.signal ?? new AbortController().signal,
  });

describe('the HTTP webhook transport', () => {
  it('POSTs the body with the headers and takes a 2xx as success', async () => {
    let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const url = await receiver((req, body, res) => {
      seen = { method: req.method, headers: req.headers, body };
      res.writeHead(204).end();
    });
    expect(await post(url)).toEqual({ ok: true });
    expect(seen).toMatchObject({
      method: 'POST',
      body: '{"type":"deleted"}',
      headers: {
        'content-type': 'application/json',
        'x-fleetgate-event-id': 'e1',
        'user-agent': 'fleetgate/test',
      },
    });
  });

  it('reports another status with the start of the answer', async () => {
    const url = await receiver((_req, _body, res) => res.writeHead(503).end(`busy ${'x'.repeat(5000)}`));
    const result = await post(url);
    expect(result.ok).toBe(false);
    const error = (result as { error: string }).error;
    expect(error).toMatch(/^HTTP 503: busy x+$/);
    expect(error.length).toBeLessThan(600);
  });

  it('does not follow redirects, which would turn the POST into a GET', async () => {
    const url = await receiver((_req, _body, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    expect(await post(url)).toEqual({ ok: false, error: 'HTTP 302' });
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const url = await receiver(() => {});
    expect(await post(url, { timeoutMs: 50 })).toEqual({ ok: false, error: 'no answer within 50 ms' });
  });

  it('reports a receiver that cannot be reached', async () => {
    const url = await receiver(() => {});
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await post(url)).toEqual({ ok: false, error: 'ECONNREFUSED' });
  });

  it('abandons an attempt when the gateway stops', async () => {
    const url = await receiver(() => {});
    const stop = new AbortController();
    const attempt = post(url, { signal: stop.signal });
    setTimeout(() => stop.abort(), 20);
    expect(await attempt).toEqual({ ok: false, error: 'abandoned: the gateway is stopping' });
  });
});
