import { operationAliases, operations, type Device2Api, type OperationName } from './operations.js';
import { compileValidator } from './validate.js';

/** Device2Api with the platform's long names as well (CONTRACT §2). */
export type Device2WithAliases = Device2Api & Record<string, (params?: unknown) => Promise<unknown>>;

/**
 * The Device2 operations for code that is not an edge, such as an event handler module: every
 * call's parameters are checked against the operation's schema first, exactly as the HTTP API
 * checks a request body, since the use cases take their parameters as already validated. A bad
 * call rejects with the INVALID_PARAMETER error naming the parameter.
 */
export function checkedDevice2(device2: Device2Api): Device2WithAliases {
  const entries = (Object.keys(operations) as OperationName[]).map((name) => {
    const validate = compileValidator(operations[name].params, 'params');
    const call = device2[name] as (params: unknown) => Promise<unknown>;
    return [name, async (params: unknown = {}) => call(validate(params))] as const;
  });
  const methods = Object.fromEntries(entries);
  for (const [alias, name] of Object.entries(operationAliases)) methods[alias] = methods[name]!;
  return methods as unknown as Device2WithAliases;
}
