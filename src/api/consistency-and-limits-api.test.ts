import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, startTestApi, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(async () => {
  await api.close();
});

describe('identities added while resources change', () => {
  it('every identity gets the initial value of a resource added in the middle of a burst', async () => {
    const adds = Array.from({ length: 200 }, (_, i) => api.call('addIdentity', { identity: `burst-${i}` }));
    const resource = api.call('addResource', { alias: 'mode', settable: true, initial: 'auto' });
    const more = Array.from({ length: 50 }, (_, i) => api.call('addIdentity', { identity: `late-${i}` }));
    for (const reply of await Promise.all([...adds, resource, ...more])) expect(reply.status).toBe(204);
    const { devices } = await api.ok('listIdentities', { limit: 2000 });
    expect(devices).toHaveLength(250);
    for (const device of devices) expect(device.state).toMatchObject({ mode: { set: 'auto' } });
  });

  it('no identity keeps a state entry of a resource removed while it was being added', async () => {
    await api.ok('addResource', { alias: 'mode', settable: true, initial: 'auto' });
    const adding = api.call('addIdentity', { identity: 'racer' });
    const removing = api.call('removeResource', { alias: 'mode' });
    expect((await adding).status).toBe(204);
    expect((await removing).status).toBe(204);
    expect(await api.ok('getIdentityState', { identity: 'racer' })).toEqual({});
  });
});

describe('request bodies the API refuses', () => {
  it('refuses "__proto__" however it is escaped, changing nothing', async () => {
    const before = await api.dump();
    const escaped = '{"identity":"a","\\u005f_proto__":{"x":1}}';
    assertError(await api.call('setIdentityState', escaped), 400, '__proto__');
    assertError(await api.call('addResource', { alias: '__proto__', settable: true }), 400, 'alias');
    expect(await api.dump()).toEqual(before);
  });

  it('refuses bodies nested deeper than 32 levels instead of failing on them', async () => {
    // Written out by hand: JSON.stringify itself would overflow on such a value.
    const deep = `${'['.repeat(5000)}"x"${']'.repeat(5000)}`;
    const reply = await api.call('updateGatewaySettings', `{"solution_sync":{"source":{"a":${deep}}}}`);
    expect(assertError(reply, 400)).toContain('deeper than 32');
    expect((await api.ok('getSolutionPairing', {})).source).toBeNull();
  });
});
