/**
 * Stable error codes of the domain. Edges map each code to their protocol in one table
 * (src/api/error-status.ts for HTTP); the core never speaks in HTTP statuses.
 */
export type ErrorCode =
  | 'INVALID_PARAMETER'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'NOT_SETTABLE'
  | 'IDENTITY_SPACE_EXHAUSTED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNKNOWN_OPERATION'
  | 'MANAGED_BY_CONFIG';

export class GatewayError extends Error {
  readonly code: ErrorCode;
  /** The request parameter at fault, when one is. */
  readonly parameter: string | undefined;
  /** For refusals of devices: the reason counted in the device metrics. */
  readonly reason: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: ErrorOptions & { parameter?: string; reason?: string },
  ) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
    this.parameter = options?.parameter;
    this.reason = options?.reason;
  }
}

/** A device refused for what it presented: unknown or wrong credentials. */
export function unauthorized(): GatewayError {
  return new GatewayError('UNAUTHORIZED', 'missing or invalid credentials');
}

/**
 * A device refused for what its identity is (locked, expired, provisioning closed), as opposed to
 * for what it presented (UNAUTHORIZED). `reason` is the stable word counted in device metrics.
 */
export function forbidden(reason: string, message: string): GatewayError {
  return new GatewayError('FORBIDDEN', message, { reason });
}

export function invalidParameter(parameter: string, problem: string): GatewayError {
  return new GatewayError('INVALID_PARAMETER', `parameter "${parameter}": ${problem}`, { parameter });
}

export function alreadyExists(parameter: string, problem: string): GatewayError {
  return new GatewayError('ALREADY_EXISTS', `parameter "${parameter}": ${problem}`, { parameter });
}

export function identityNotFound(identity: string): GatewayError {
  return new GatewayError('NOT_FOUND', `identity "${identity}" does not exist`);
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}
