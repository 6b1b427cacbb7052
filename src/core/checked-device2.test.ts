import { describe, expect, it } from 'vitest';
import { checkedDevice2 } from './checked-device2.js';
import { GatewayError } from './errors.js';
import type { Device2Api } from './operations.js';

const calls: unknown[] = [];
const inner = new Proxy(
  {},
  {
    get: (_target, name) => (params: unknown) => {
      calls.push([name, params]);
      return Promise.resolve(undefined);
    },
  },
) as Device2Api;

describe('the checked Device2 API', () => {
  it('passes valid parameters through, and offers the long aliases', async () => {
    const device2 = checkedDevice2(inner);
    await device2.addIdentityTag({ identity: 'a', tags: [{ name: 'site', value: 'north' }] });
    await device2.listTagNames(undefined as never);
    await device2.addGatewayResource!({ alias: 'temp', format: 'number' });
    expect(calls).toEqual([
      ['addIdentityTag', { identity: 'a', tags: [{ name: 'site', value: 'north' }] }],
      ['listTagNames', {}],
      ['addResource', { alias: 'temp', format: 'number' }],
    ]);
  });

  it('rejects bad parameters with the error naming the parameter, before the use case runs', async () => {
    calls.length = 0;
    const device2 = checkedDevice2(inner);
    const error = await device2.addIdentityTag({ identity: 'a/b', tags: [] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'INVALID_PARAMETER', parameter: 'identity' });
    expect(calls).toEqual([]);
  });
});
