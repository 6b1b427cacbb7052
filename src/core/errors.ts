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
  | 'UNKNOWN_OPERATION'
  | 'MANAGED_BY_CONFIG';

export class GatewayError extends Error {
  readonly code: ErrorCode;
  /** The request parameter at fault, when one is. */
  readonly parameter: string | undefined;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions & { parameter?: string }) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
    this.parameter = options?.parameter;
  }
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
