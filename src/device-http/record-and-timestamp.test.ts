import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { T0 } from '../api/test-api.js';
import { activate, get, post, startDeviceHttp, type TestDeviceHttp } from './test-device-http.js';

let server: TestDeviceHttp;
let token: string;
beforeEach(async () => {
  server = await startDeviceHttp({ file: true });
  await server.device2.addResource({ alias: 'temp', format: 'number' });
  await server.device2.addResource({ alias: 'note', format: 'string' });
  token = await activate(server, 'dev-1');
  server.events.length = 0;
});
afterEach(async () => {
  await server.close();
});

const S = T0 / 1_000_000;
const record = (body: string) => post(server, '/onep:v1/stack/record', body, { 'x-exosite-cik': token });

describe('POST /onep:v1/stack/record', () => {
  it('stores each value at its own timestamp (seconds, milliseconds or microseconds) in one publish', async () => {
    const body =
      `alias=temp&${S - 60}=20&${(S - 30) * 1000}=21&alias=note&${S - 60}=first+note` +
      `&${(S - 10) * 1_000_000}=second`;
    const reply = await record(body);
    expect(reply.status).toBe(204);
    expect(server.samples()).toEqual([
      { identity: 'dev-1', resource: 'note', timestamp: T0 - 60_000_000, value: 'first note' },
      { identity: 'dev-1', resource: 'temp', timestamp: T0 - 60_000_000, value: 20 },
      { identity: 'dev-1', resource: 'temp', timestamp: T0 - 30_000_000, value: 21 },
      { identity: 'dev-1', resource: 'note', timestamp: T0 - 10_000_000, value: 'second' },
    ]);
    // The state holds the newest value of each alias.
    expect(await server.device2.getIdentityState({ identity: 'dev-1' })).toEqual({
      temp: { set: 21, reported: 21, timestamp: T0 - 30_000_000 },
      note: { set: 'second', reported: 'second', timestamp: T0 - 10_000_000 },
    });
    expect(server.events).toHaveLength(1);
    expect(server.events[0]).toMatchObject({
      type: 'data_in',
      protocol: 'http',
      payload: [
        { timestamp: T0 - 60_000_000, values: { temp: 20, note: 'first note' } },
        { timestamp: T0 - 30_000_000, values: { temp: 21 } },
        { timestamp: T0 - 10_000_000, values: { note: 'second' } },
      ],
      updated_resources: ['temp', 'note'],
    });
  });

  it('leaves out of updated_resources a recorded value older than the state, which it does not replace', async () => {
    expect((await record(`alias=temp&${S - 10}=30`)).status).toBe(204);
    expect((await record(`alias=temp&${S - 3600}=-40&alias=note&${S - 3600}=old`)).status).toBe(204);
    expect(server.events.map((e) => (e as { updated_resources?: string[] }).updated_resources)).toEqual([
      ['temp'],
      ['note'],
    ]);
    expect(await server.device2.getIdentityState({ identity: 'dev-1' })).toMatchObject({
      temp: { reported: 30 },
      note: { reported: 'old' },
    });
  });

  it('answers 400 to a value before any alias, a timestamp that is not a number, or one out of range', async () => {
    for (const body of [
      `${S}=20&alias=temp`,
      'alias=temp&yesterday=20',
      'alias=temp&1e9=20',
      `alias=&${S}=1`,
      `alias=temp&${S + 2 * 86_400}=1`,
    ]) {
      const reply = await record(body);
      expect(reply.status, body).toBe(400);
      expect(reply.text, body).not.toBe('');
    }
    const refused = await record(`alias=temp&${S}=warm`);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('temp');
    expect(server.samples()).toEqual([]);
    expect(server.events).toEqual([]);
  });

  it('answers 204 to an alias without values, storing nothing', async () => {
    expect((await record('alias=temp')).status).toBe(204);
    expect(server.samples()).toEqual([]);
  });
});

describe('GET /timestamp', () => {
  it('answers the server time in unix seconds as text, without authentication', async () => {
    server.clock.advance(1_700_000);
    const reply = await get(server, '/timestamp');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(reply.text).toBe(String(S + 1));
  });
});
