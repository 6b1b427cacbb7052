import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { T0 } from '../api/test-api.js';
import { activate, get, post, startDeviceHttp, type TestDeviceHttp } from './test-device-http.js';

let server: TestDeviceHttp;
let token: string;
beforeEach(async () => {
  server = await startDeviceHttp();
  await server.device2.addResource({ alias: 'setpoint', format: 'number', settable: true });
  await server.device2.addResource({ alias: 'mode', format: 'string', settable: true });
  token = await activate(server, 'dev-1');
});
afterEach(async () => {
  await server.close();
});

const T0_SECONDS = T0 / 1_000_000;

function poll(headers: Record<string, string>, query = 'setpoint', signal?: AbortSignal) {
  return fetch(`${server.url}/onep:v1/stack/alias?${query}`, {
    headers: { 'x-exosite-cik': token, ...headers },
    ...(signal && { signal }),
  });
}

/** Resolves once the server's long-poll has subscribed, with what waitForSet will answer. */
async function waiting(spy: {
  mock: { results: { value: unknown }[] };
}): Promise<{ answer: Promise<unknown> }> {
  await vi.waitFor(() => expect(spy.mock.results).toHaveLength(1));
  return { answer: spy.mock.results[0]!.value as Promise<unknown> };
}

describe('long-polling GET /onep:v1/stack/alias with Request-Timeout', () => {
  it('answers 200 with the value and its Last-Modified when setIdentityState changes it during the poll', async () => {
    const spy = vi.spyOn(server.devices, 'waitForSet');
    const answer = poll({ 'request-timeout': '30000' });
    await waiting(spy);
    server.clock.advance(2_500_000);
    await server.device2.setIdentityState({ identity: 'dev-1', setpoint: 25 });
    const response = await answer;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(response.headers.get('last-modified')).toBe(new Date((T0_SECONDS + 2) * 1000).toUTCString());
    expect(await response.text()).toBe('setpoint=25');
  });

  it('ends a pending poll with 304 when its identity is locked', async () => {
    const spy = vi.spyOn(server.devices, 'waitForSet');
    const pending = poll({ 'request-timeout': '30000' });
    await waiting(spy);
    await server.device2.updateIdentity({ identity: 'dev-1', locked: true });
    expect((await pending).status).toBe(304);
    expect((await poll({ 'request-timeout': '30000' })).status).toBe(403);
  });

  it('answers nothing to a poll whose request was authenticated before a lock, though a value is newer', async () => {
    await server.device2.setIdentityState({ identity: 'dev-1', setpoint: 21 });
    const mark = server.devices.closeMark();
    await server.device2.updateIdentity({ identity: 'dev-1', locked: true });
    expect(await server.devices.waitForSet('dev-1', 'setpoint', 0, 30_000, undefined, mark)).toBeUndefined();
    expect(await server.devices.waitForSet('dev-1', 'setpoint', 0, 30_000)).toMatchObject({ value: 21 });
  });

  it('answers 304 when nothing changes before the timeout', async () => {
    await server.device2.setIdentityState({ identity: 'dev-1', setpoint: 25 });
    const response = await poll({ 'request-timeout': '50' });
    expect(response.status).toBe(304);
    expect(await response.text()).toBe('');
  });

  it('answers at once a value newer than If-Modified-Since, and never the same value for its own Last-Modified', async () => {
    server.clock.advance(500_000);
    await server.device2.setIdentityState({ identity: 'dev-1', setpoint: 25 });
    const first = await poll({ 'request-timeout': '30000', 'if-modified-since': String(T0_SECONDS - 1) });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('setpoint=25');
    const lastModified = first.headers.get('last-modified')!;
    expect(lastModified).toBe('Tue, 14 Nov 2023 22:13:20 GMT');
    const again = await poll({ 'request-timeout': '50', 'if-modified-since': lastModified });
    expect(again.status).toBe(304);
    const inSeconds = await poll({ 'request-timeout': '50', 'if-modified-since': String(T0_SECONDS) });
    expect(inSeconds.status).toBe(304);
    const olderDate = await poll({
      'request-timeout': '50',
      'if-modified-since': new Date((T0_SECONDS - 1) * 1000).toUTCString(),
    });
    expect(olderDate.status).toBe(200);
  });

  it('waits for a change after "now" when If-Modified-Since is absent', async () => {
    server.clock.advance(-1);
    await server.device2.setIdentityState({ identity: 'dev-1', setpoint: 25 });
    server.clock.advance(1);
    expect((await poll({ 'request-timeout': '50' })).status).toBe(304);
  });

  it('writes first, then polls, when a POST with a query string carries Request-Timeout', async () => {
    const reply = await post(server, '/onep:v1/stack/alias?setpoint', 'mode=auto', {
      'x-exosite-cik': token,
      'request-timeout': '50',
    });
    expect(reply.status).toBe(304);
    expect((await server.device2.getIdentityState({ identity: 'dev-1' })).mode).toMatchObject({
      reported: 'auto',
    });
  });

  it('answers 400 to a Request-Timeout above 300000 ms or not a number, to a bad If-Modified-Since, and to more than one alias', async () => {
    const headers = { 'x-exosite-cik': token };
    const bad: Record<string, string>[] = [
      { 'request-timeout': '300001' },
      { 'request-timeout': 'soon' },
      { 'request-timeout': '-5' },
      { 'request-timeout': '100', 'if-modified-since': 'yesterday-ish' },
    ];
    for (const extra of bad) {
      const reply = await get(server, '/onep:v1/stack/alias?setpoint', { ...headers, ...extra });
      expect(reply.status, JSON.stringify(extra)).toBe(400);
      expect(reply.text).toMatch(/Request-Timeout|If-Modified-Since/);
    }
    const two = await get(server, '/onep:v1/stack/alias?setpoint&mode', {
      ...headers,
      'request-timeout': '100',
    });
    expect(two.status).toBe(400);
    expect(two.text).toContain('exactly one alias');
  });

  it('frees the waiter when the device hangs up mid-poll', async () => {
    const spy = vi.spyOn(server.devices, 'waitForSet');
    const hangUp = new AbortController();
    const answer = poll({ 'request-timeout': '300000' }, 'setpoint', hangUp.signal);
    const waited = await waiting(spy);
    hangUp.abort();
    await expect(answer).rejects.toThrow();
    // The core's wait ends (its waiter removed) long before the 300 s timeout.
    expect(await waited.answer).toBeUndefined();
  });

  it('ends pending polls with 304 when the listener closes', async () => {
    const spy = vi.spyOn(server.devices, 'waitForSet');
    const answer = poll({ 'request-timeout': '300000' });
    await waiting(spy);
    const closed = server.app.close();
    const response = await answer;
    expect(response.status).toBe(304);
    expect(response.headers.get('connection')).toBe('close');
    await closed;
  });
});
