import type { ErrorCode } from '../core/errors.js';
import { isGatewayError } from '../core/errors.js';

/** The one table mapping domain error codes to HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_PARAMETER: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  UNKNOWN_OPERATION: 404,
  ALREADY_EXISTS: 409,
  NOT_SETTABLE: 409,
  IDENTITY_SPACE_EXHAUSTED: 409,
  MANAGED_BY_CONFIG: 409,
};

export interface ErrorReply {
  code: number;
  message: string;
}

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/**
 * The `{code, message}` body for any error. Client errors keep their message; server errors
 * are reported as such, with the detail left to the log.
 */
export function errorReply(error: unknown, bodyLimit: number): ErrorReply {
  if (isGatewayError(error)) return { code: HTTP_STATUS[error.code], message: error.message };
  const framework = (error ?? {}) as FrameworkError;
  if (framework.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { code: 413, message: `the request body exceeds ${bodyLimit} bytes` };
  }
  const status = framework.statusCode ?? 500;
  if (status >= 400 && status < 500) return { code: status, message: framework.message ?? 'bad request' };
  return { code: 500, message: 'internal error' };
}
