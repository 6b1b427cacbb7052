import { operations, type Device2Api, type OperationName } from '../core/operations.js';

export type { Device2Api, OperationName, OperationParams, OperationResult } from '../core/operations.js';

export interface Device2ClientOptions {
  /** Base URL of the management API, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The admin token. */
  token: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
}

/** A non-2xx answer of the gateway: `status` is the HTTP status, `message` the gateway's own. */
export class Device2Error extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly operation: string,
  ) {
    super(message);
    this.name = 'Device2Error';
  }
}

export interface Device2Client extends Device2Api {
  /** Calls an operation by name with untyped parameters (the CLI's way in). */
  call(operation: string, params?: unknown): Promise<unknown>;
}

/** A typed client of a running gateway: one async method per Device2 operation. */
export function createDevice2Client({ url, token, timeoutMs = 30_000 }: Device2ClientOptions): Device2Client {
  const base = url.replace(/\/+$/, '');
  async function call(operation: string, params: unknown = {}): Promise<unknown> {
    const response = await fetch(`${base}/api/v1/device2/${encodeURIComponent(operation)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(params ?? {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text || response.statusText;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not a JSON error body; keep the text
      }
      throw new Device2Error(response.status, message, operation);
    }
    return text === '' ? undefined : JSON.parse(text);
  }
  const methods = Object.fromEntries(
    (Object.keys(operations) as OperationName[]).map((name) => [
      name,
      (params: unknown) => call(name, params),
    ]),
  ) as unknown as Device2Api;
  return { ...methods, call };
}
