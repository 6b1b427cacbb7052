import { expect } from 'vitest';
import { GatewayError } from '../core/errors.js';
import type { NewIdentity } from '../core/ports.js';
import type { ResourceDefinition } from '../core/schemas/resource.js';

export const NOW = 1_700_000_000_000_000;
export const HOUR = 3_600_000_000;

export function newIdentity(identity: string, overrides: Partial<NewIdentity> = {}): NewIdentity {
  return {
    identity,
    authType: 'token',
    credential: null,
    authExpire: null,
    locked: false,
    permission: {},
    createdAt: NOW,
    ...overrides,
  };
}

export async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

export const numberResource: ResourceDefinition = {
  format: 'number',
  sync: true,
  settable: true,
  retention: '12',
};
