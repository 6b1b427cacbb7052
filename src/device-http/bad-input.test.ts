import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activate, get, post, startDeviceHttp, type TestDeviceHttp } from './test-device-http.js';

let server: TestDeviceHttp;
beforeEach(async () => {
  server = await startDeviceHttp();
});
afterEach(async () => {
  expect(server.errors).toEqual([]);
  await server.close();
});

/** Sends raw bytes on a fresh connection and resolves with everything the server sends back. */
function raw(bytes: string): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.end(bytes, 'latin1');
  });
}

/** Announces a body of `length` bytes, sends a little of it, and resolves with the status. */
function announcedBodyStatus(path: string, length: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': length },
    });
    req.on('response', (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    req.on('error', reject);
    req.write('temp=');
  });
}

describe('the HTTP device API under bad input', () => {
  it('answers unknown routes 404 and wrong methods 405 naming the method, with short text bodies', async () => {
    const unknown = await get(server, '/onep:v1/stack/nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(unknown.text).toBe('not found');
    const wrong = await get(server, '/provision/activate');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(wrong.text).toBe('use POST');
    const put = await fetch(`${server.url}/onep:v1/stack/alias`, { method: 'PUT', body: 'a=1' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await post(server, '/timestamp', '')).status).toBe(405);
  });

  it('answers 413 to a body over 1 MiB, before reading it', async () => {
    expect(await announcedBodyStatus('/onep:v1/stack/alias', 2 * 1024 * 1024)).toBe(413);
    const token = await activate(server, 'dev-1');
    const big = await post(server, '/onep:v1/stack/alias', `a=${'x'.repeat(1024 * 1024)}`, {
      'x-exosite-cik': token,
    });
    expect(big.status).toBe(413);
    expect(big.text).toBe('the request body exceeds 1048576 bytes');
  });

  it('answers garbage request lines 400 as text and keeps serving', async () => {
    for (const garbage of [
      'GARBAGE\r\n\r\n',
      'POST /onep:v1/stack/alias HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n',
      '\u0000\u0001\u0002\u00ff\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
    ]) {
      const answer = await raw(garbage);
      expect(answer, JSON.stringify(garbage)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(answer).toContain('Content-Type: text/plain; charset=utf-8');
    }
    const badUrl = await raw('GET /onep:v1/stack/alias?%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(badUrl).toMatch(/^HTTP\/1\.1 401 /);
    expect((await get(server, '/timestamp')).status).toBe(200);
  });

  it('reads form bodies whatever the Content-Type, and without one', async () => {
    await server.device2.addResource({ alias: 'temp', format: 'number' });
    const token = await activate(server, 'dev-1');
    const asJson = await post(server, '/onep:v1/stack/alias', 'temp=1', {
      'x-exosite-cik': token,
      'content-type': 'application/json',
    });
    expect(asJson.status).toBe(204);
    const bare = await raw(
      `POST /onep:v1/stack/alias HTTP/1.1\r\nHost: x\r\nX-Exosite-CIK: ${token}\r\n` +
        'Content-Length: 6\r\nConnection: close\r\n\r\ntemp=2',
    );
    expect(bare).toMatch(/^HTTP\/1\.1 204 /);
    expect((await server.device2.getIdentityState({ identity: 'dev-1' })).temp).toMatchObject({
      reported: 2,
    });
  });

  it('counts each malformed request as a connection_error of its device (malformed_request), and an oversized body without one', async () => {
    const token = await activate(server, 'dev-1');
    const cik = { 'x-exosite-cik': token };
    expect((await post(server, '/onep:v1/stack/alias', 'a%ZZ=1', cik)).status).toBe(400);
    expect((await post(server, '/onep:v1/stack/record', '5=1', cik)).status).toBe(400);
    expect(
      (await get(server, '/onep:v1/stack/alias?temp', { ...cik, 'request-timeout': '999999' })).status,
    ).toBe(400);
    expect((await post(server, '/provision/activate', 'id=%ZZ')).status).toBe(400);
    expect(await announcedBodyStatus('/onep:v1/stack/alias', 2 * 1024 * 1024)).toBe(413);
    const now = Math.floor(server.clock.nowMicros() / 1e6);
    const errors = await server.device2.getDeviceMetrics({
      metric_name: 'connection_error',
      aggregate_fn: 'sum',
      start_time: now - 3600,
      end_time: now + 60,
    });
    const byReason = Object.fromEntries(errors.map((point) => [point.connection_error ?? '', point.value]));
    expect(byReason).toEqual({ malformed_request: 4, payload_too_large: 1 });
    const perDevice = await server.device2.getDeviceMetrics({
      metric_name: 'connection_error',
      distinct: true,
      start_time: now - 3600,
      end_time: now + 60,
    });
    expect(perDevice).toEqual([expect.objectContaining({ connection_error: 'malformed_request', value: 1 })]);
  });

  it('answers a malformed %-escape in the read query 400 once authenticated', async () => {
    const token = await activate(server, 'dev-1');
    const reply = await get(server, '/onep:v1/stack/alias?%E0%A4%A', { 'x-exosite-cik': token });
    expect(reply.status).toBe(400);
    expect(reply.text).toContain('query');
  });
});
