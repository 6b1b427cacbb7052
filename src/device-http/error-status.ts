import type { ErrorCode } from '../core/errors.js';

/** The one table from domain error codes to the statuses of the HTTP device API. */
export const DEVICE_HTTP_STATUS: Record<ErrorCode, number> = {
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
