import { GatewayError } from './errors.js';

/** The INVALID_PARAMETER error `fn` throws; fails the test when it throws nothing or something else. */
export function refusal(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'INVALID_PARAMETER') return error;
    throw error;
  }
  throw new Error('expected INVALID_PARAMETER');
}
