import { Agent, request, type RequestOptions } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { T0 } from '../api/test-api.js';
import { activate, get, post, startDeviceHttp, type TestDeviceHttp } from './test-device-http.js';

let server: TestDeviceHttp;
afterEach(async () => {
  await server.close();
});

async function setUp(options: { file?: boolean } = {}): Promise<string> {
  server = await startDeviceHttp(options);
  await server.device2.addResource({ alias: 'temp', format: 'number' });
  await server.device2.addResource({ alias: 'label', format: 'string', settable: true });
  await server.device2.addResource({ alias: 'setpoint', format: 'number', settable: true });
  return activate(server, 'dev-1');
}

describe('POST /onep:v1/stack/alias (write)', () => {
  it('answers 204 once the values are stored: state, committed samples, lastseen/lastip and a data_in event', async () => {
    const token = await setUp({ file: true });
    server.events.length = 0;
    const reply = await post(server, '/onep:v1/stack/alias', 'temp=21.5&label=hello+world%21&other=x', {
      'x-exosite-cik': token,
    });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(await server.device2.getIdentityState({ identity: 'dev-1' })).toEqual({
      temp: { set: 21.5, reported: 21.5, timestamp: T0 },
      label: { set: 'hello world!', reported: 'hello world!', timestamp: T0 },
    });
    expect(server.samples()).toEqual([
      { identity: 'dev-1', resource: 'label', timestamp: T0, value: 'hello world!' },
      { identity: 'dev-1', resource: 'temp', timestamp: T0, value: 21.5 },
    ]);
    expect(await server.device2.getIdentity({ identity: 'dev-1' })).toMatchObject({
      lastseen: T0,
      lastip: '127.0.0.1',
      online: false,
    });
    expect(server.events).toEqual([
      {
        type: 'data_in',
        identity: 'dev-1',
        ip: '127.0.0.1',
        protocol: 'http',
        timestamp: T0,
        connection_id: expect.any(String) as string,
        // Undefined aliases travel in the event but change no state.
        payload: [{ timestamp: T0, values: { temp: 21.5, label: 'hello world!', other: 'x' } }],
        updated_resources: ['temp', 'label'],
      },
    ]);
  });

  it('gives every request of one keep-alive connection the same connection_id, and another connection another', async () => {
    const token = await setUp();
    server.events.length = 0;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (value: number, options: RequestOptions) =>
      new Promise<number | undefined>((resolve, reject) => {
        const req = request(`${server.url}/onep:v1/stack/alias`, {
          method: 'POST',
          headers: { 'x-exosite-cik': token },
          ...options,
        });
        req.on('response', (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode));
        });
        req.on('error', reject);
        req.end(`temp=${value}`);
      });
    try {
      expect(await send(1, { agent })).toBe(204);
      expect(await send(2, { agent })).toBe(204);
      expect(await send(3, { agent: false })).toBe(204);
    } finally {
      agent.destroy();
    }
    const [a, b, c] = server.events.map((e) => e.connection_id);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('answers 400 with the reason as text for a value its resource refuses, storing nothing', async () => {
    const token = await setUp();
    const reply = await post(server, '/onep:v1/stack/alias', 'temp=warm&label=x', { 'x-exosite-cik': token });
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(reply.text).toContain('temp');
    expect(await server.device2.getIdentityState({ identity: 'dev-1' })).toEqual({});
  });

  it('answers 400 to a malformed %-escape and to an empty alias', async () => {
    const token = await setUp();
    const headers = { 'x-exosite-cik': token };
    expect((await post(server, '/onep:v1/stack/alias', 'temp=%E0%A4%A', headers)).status).toBe(400);
    expect((await post(server, '/onep:v1/stack/alias', '=5', headers)).status).toBe(400);
    expect((await post(server, '/onep:v1/stack/alias', '__proto__=5', headers)).status).toBe(400);
  });

  it('answers 401 without a token or with a wrong one, and 403 for a locked identity', async () => {
    const token = await setUp();
    expect((await post(server, '/onep:v1/stack/alias', 'temp=1')).status).toBe(401);
    const wrong = await post(server, '/onep:v1/stack/alias', 'temp=1', { 'x-exosite-cik': 'x'.repeat(40) });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toBe('missing or invalid credentials');
    expect((await get(server, '/onep:v1/stack/alias?temp')).status).toBe(401);
    expect((await post(server, '/onep:v1/stack/record', 'alias=temp&1700000000=1')).status).toBe(401);
    await server.device2.updateIdentity({ identity: 'dev-1', locked: true });
    const locked = await post(server, '/onep:v1/stack/alias', 'temp=1', { 'x-exosite-cik': token });
    expect(locked.status).toBe(403);
    expect(locked.text).toContain('locked');
  });

  it('answers 403 to a token whose key has expired (reprovision)', async () => {
    const token = await setUp();
    await server.device2.updateIdentity({ identity: 'dev-1', auth: { expire: T0 - 1 } });
    const reply = await post(server, '/onep:v1/stack/alias', 'temp=1', { 'x-exosite-cik': token });
    expect(reply.status).toBe(403);
  });
});

describe('GET /onep:v1/stack/alias (read)', () => {
  it('answers the set values as a form body, leaving out aliases without one', async () => {
    const token = await setUp();
    await server.device2.setIdentityState({ identity: 'dev-1', label: 'a&b c', setpoint: 20 });
    const reply = await get(server, '/onep:v1/stack/alias?label&setpoint&temp&nothing', {
      'x-exosite-cik': token,
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(reply.text).toBe('label=a%26b+c&setpoint=20');
    expect(Object.fromEntries(new URLSearchParams(reply.text))).toEqual({ label: 'a&b c', setpoint: '20' });
  });

  it('answers 204 when none of the aliases has a set value, or none is asked', async () => {
    const token = await setUp();
    const headers = { 'x-exosite-cik': token };
    expect((await get(server, '/onep:v1/stack/alias?setpoint&nothing', headers)).status).toBe(204);
    expect((await get(server, '/onep:v1/stack/alias', headers)).status).toBe(204);
  });

  it('records the contact of a read in lastseen and lastip, without making the device online', async () => {
    const token = await setUp();
    server.clock.advance(5_000_000);
    await get(server, '/onep:v1/stack/alias?setpoint', { 'x-exosite-cik': token });
    expect(await server.device2.getIdentity({ identity: 'dev-1' })).toMatchObject({
      lastseen: T0 + 5_000_000,
      lastip: '127.0.0.1',
      online: false,
    });
  });

  it('writes first and then reads when a POST carries a query string', async () => {
    const token = await setUp();
    await server.device2.setIdentityState({ identity: 'dev-1', setpoint: 20 });
    const reply = await post(server, '/onep:v1/stack/alias?setpoint&label', 'label=from-device&temp=3', {
      'x-exosite-cik': token,
    });
    expect(reply.status).toBe(200);
    expect(new URLSearchParams(reply.text).get('label')).toBe('from-device');
    expect(new URLSearchParams(reply.text).get('setpoint')).toBe('20');
    expect((await server.device2.getIdentityState({ identity: 'dev-1' })).temp).toMatchObject({
      reported: 3,
    });
  });

  it('writes nothing when a POST with a query string has an invalid value', async () => {
    const token = await setUp();
    const reply = await post(server, '/onep:v1/stack/alias?temp', 'temp=hot', { 'x-exosite-cik': token });
    expect(reply.status).toBe(400);
    expect(await server.device2.getIdentityState({ identity: 'dev-1' })).toEqual({});
  });
});
