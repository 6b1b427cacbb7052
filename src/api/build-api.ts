import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { GatewayError } from '../core/errors.js';
import {
  isOperationName,
  operationAliases,
  operations,
  type Device2Api,
  type OperationName,
} from '../core/operations.js';
import { compileValidator } from '../core/validate.js';
import type { WebhookService } from '../core/webhook-service.js';
import { errorReply } from './error-status.js';
import type { EventStreamHub } from './event-stream.js';
import { registerEventStreamRoute } from './event-stream-route.js';
import type { ApiMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { acceptJsonBodies } from './request-body.js';
import { registerWebhookRoutes } from './webhook-routes.js';

export interface ApiDeps {
  device2: Device2Api;
  webhooks: WebhookService;
  eventStream: EventStreamHub;
  adminToken: string;
  metrics: ApiMetrics;
  logger: FastifyBaseLogger;
  version: string;
  bodyLimit?: number;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

const isRoute = (name: string) => isOperationName(name) || Object.hasOwn(operationAliases, name);

/** A malformed %-escape in the URL must not turn a 404 into a 500. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Builds the management API; listening is the caller's business. */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const bodyLimit = deps.bodyLimit ?? 1024 * 1024;
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // Fastify's own 503 has its own body shape; the onRequest hook below answers in ours.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Errors Fastify raises before routing (a malformed URL) would otherwise skip the error handler
    // and answer in Fastify's own shape instead of {code, message}.
    frameworkErrors: (error, _request, reply) => {
      const body = errorReply(error, bodyLimit);
      void (reply as FastifyReply).code(body.code).send(body);
    },
  });
  acceptJsonBodies(app);
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    // Event streams never end by themselves: the server would wait for them forever.
    deps.eventStream.closeAll();
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    void reply
      .code(503)
      .header('connection', 'close')
      .send({ code: 503, message: 'the gateway is shutting down' });
  });
  // A request in flight when closing begins ends its keep-alive connection with its answer:
  // otherwise the connection idles on and holds the close open until keepAliveTimeout.
  app.addHook('onSend', (_request, reply, _payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done();
  });
  app.setValidatorCompiler(({ schema }) => {
    const validate = compileValidator(schema as TSchema);
    return (data: unknown) => {
      try {
        return { value: validate(data ?? {}) };
      } catch (error) {
        return { error: error as Error };
      }
    };
  });
  app.setErrorHandler((error, request, reply) => {
    const body = errorReply(error, bodyLimit);
    if (body.code >= 500) request.log.error({ err: error, url: request.url }, 'request failed');
    if (body.code === 401) void reply.header('www-authenticate', 'Bearer');
    return reply.code(body.code).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const operation = /^\/api\/v1\/device2\/([^/?]+)(?:\?|$)/.exec(request.url)?.[1];
    const name = operation === undefined ? undefined : safeDecode(operation);
    if (name !== undefined && isRoute(name) && request.method !== 'POST') {
      return reply
        .code(405)
        .header('allow', 'POST')
        .send({ code: 405, message: `operation "${name}" is called with POST` });
    }
    const message =
      name !== undefined
        ? `unknown operation "${name}"`
        : `no route ${request.method} ${request.url.split('?')[0]}`;
    const body = errorReply(new GatewayError('UNKNOWN_OPERATION', message), bodyLimit);
    return reply.code(body.code).send(body);
  });

  app.get('/health', (_request, reply) => reply.type('text/plain').send('OK'));
  app.get('/metrics', async (_request, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
  const openapi = JSON.stringify(buildOpenApiDocument(deps.version));
  app.get('/api/v1/openapi.json', (_request, reply) => reply.type('application/json').send(openapi));

  void app.register((authenticated, _options, registered) => {
    const expected = digest(deps.adminToken);
    authenticated.addHook('onRequest', (request, _reply, done) => {
      // The auth scheme is case-insensitive (RFC 9110 §11.1); the token is compared by digest so
      // that neither its length nor its content leaks through timing.
      const given = /^bearer +(.+?) *$/i.exec(request.headers.authorization ?? '')?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        return done(
          new GatewayError('UNAUTHORIZED', 'missing or wrong admin token (Authorization: Bearer <token>)'),
        );
      }
      done();
    });
    authenticated.addHook('onResponse', (request, reply, done) => {
      const operation = (request.routeOptions.config as { operation?: string }).operation ?? 'unknown';
      deps.metrics.observe(operation, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    const routes: [string, OperationName][] = [
      ...(Object.keys(operations) as OperationName[]).map((name) => [name, name] as [string, OperationName]),
      ...Object.entries(operationAliases),
    ];
    for (const [path, name] of routes) {
      const spec = operations[name];
      const call = deps.device2[name] as (params: unknown) => Promise<unknown>;
      authenticated.post(`/api/v1/device2/${path}`, {
        config: { operation: name },
        schema: { body: spec.params, ...('result' in spec && { response: { 200: spec.result } }) },
        handler: async (request, reply) => {
          const result = await call(request.body);
          if (spec.status !== 200) return reply.code(spec.status).send();
          return result;
        },
      });
    }
    registerWebhookRoutes(authenticated, deps.webhooks);
    registerEventStreamRoute(authenticated, deps.eventStream);
    registered();
  });
  return app;
}
