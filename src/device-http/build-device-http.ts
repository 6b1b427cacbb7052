import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { DeviceService } from '../core/device-service.js';
import { isGatewayError } from '../core/errors.js';
import { ConnectionContexts } from './connection-context.js';
import { DEVICE_HTTP_STATUS } from './error-status.js';
import { registerStackRoutes } from './stack-routes.js';

export interface DeviceHttpDeps {
  devices: DeviceService;
  clock: Clock;
  /** Only failures are logged: a device request that succeeds costs no log line. */
  logger: Pick<Logger, 'error'>;
  protocol: 'http' | 'https';
  /** PEM certificate and key: the listener speaks HTTPS and asks devices for client certificates. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  bodyLimit?: number;
}

/** What the routes share: whether the listener is closing, and the long-polls it must end then. */
export interface ListenerState {
  closing: boolean;
  readonly polls: Set<AbortController>;
}

const BODY_TOO_LARGE = 'FST_ERR_CTP_BODY_TOO_LARGE';

/** Paths with their methods, for 405 answers that say which method to use. */
const ALLOWED_METHODS: Record<string, string> = {
  '/provision/activate': 'POST',
  '/onep:v1/stack/alias': 'GET, HEAD, POST',
  '/onep:v1/stack/record': 'POST',
  '/timestamp': 'GET, HEAD',
};

function errorAnswer(error: unknown, bodyLimit: number): [status: number, message: string] {
  if (isGatewayError(error)) return [DEVICE_HTTP_STATUS[error.code], error.message];
  const framework = (error ?? {}) as { code?: string; statusCode?: number; message?: string };
  if (framework.code === BODY_TOO_LARGE) return [413, `the request body exceeds ${bodyLimit} bytes`];
  const status = framework.statusCode ?? 500;
  if (status >= 400 && status < 500) return [status, framework.message ?? 'bad request'];
  return [500, 'internal error'];
}

/** A request the HTTP parser refused (garbage, oversized headers): a short text answer, then close. */
function clientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = status === 400 ? 'malformed request' : (STATUS_CODES[status] ?? 'error').toLowerCase();
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * The HTTP device API (Murano "onep:v1/http", CONTRACT §3) on one listener. It only translates
 * the protocol: authentication, storage, events and device metrics are the DeviceService's.
 */
export function buildDeviceHttp(deps: DeviceHttpDeps): FastifyInstance {
  const bodyLimit = deps.bodyLimit ?? 1024 * 1024;
  const options = {
    // No request logger: per-request child loggers cost throughput on the device write path.
    logger: false,
    bodyLimit,
    return503OnClosing: false,
    forceCloseConnections: 'idle' as const,
    clientErrorHandler: clientError,
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => {
      const [status, message] = errorAnswer(error, bodyLimit);
      void reply.code(status).type('text/plain; charset=utf-8').send(message);
    },
  };
  // The core checks certificates against pki.client_ca itself (it can change at run time), so
  // the TLS layer asks for one but lets every device through to that check.
  const app = (deps.tls
    ? Fastify({ ...options, https: { ...deps.tls, requestCert: true, rejectUnauthorized: false } })
    : Fastify(options)) as unknown as FastifyInstance;

  const state: ListenerState = { closing: false, polls: new Set() };
  app.addHook('preClose', (done) => {
    state.closing = true;
    for (const poll of state.polls) poll.abort();
    done();
  });

  app.removeAllContentTypeParsers();
  // Devices send form bodies with or without the form Content-Type; every route reads text.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    const [status, message] = errorAnswer(error, bodyLimit);
    // Refused before the device was known: counted without an identity.
    if (status === 413) deps.devices.refused(null, 'payload_too_large');
    if (status >= 500) deps.logger.error({ err: error, url: request.url }, 'device request failed');
    if (state.closing) void reply.header('connection', 'close');
    return reply.code(status).type('text/plain; charset=utf-8').send(message);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = Object.hasOwn(ALLOWED_METHODS, path) ? ALLOWED_METHODS[path] : undefined;
    if (allowed === undefined) return reply.code(404).send('not found');
    return reply
      .code(405)
      .header('allow', allowed)
      .send(`use ${allowed.replace(', HEAD', '')}`);
  });

  registerStackRoutes(app, {
    devices: deps.devices,
    clock: deps.clock,
    contexts: new ConnectionContexts(deps.protocol),
    state,
  });
  return app;
}
