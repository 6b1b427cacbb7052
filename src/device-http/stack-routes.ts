import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import type { AuthenticatedDevice, ConnectionContext } from '../core/device-auth.js';
import type { DeviceService } from '../core/device-service.js';
import { invalidParameter, isGatewayError } from '../core/errors.js';
import type { ListenerState } from './build-device-http.js';
import type { ConnectionContexts } from './connection-context.js';
import { encodeForm, parseForm, queryOf } from './form.js';
import {
  httpDate,
  readAliases,
  recordValues,
  requestTimeout,
  sinceMicros,
  writeValues,
} from './stack-request.js';

export interface StackRouteDeps {
  devices: DeviceService;
  clock: Clock;
  contexts: ConnectionContexts;
  state: ListenerState;
}

const FORM_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

interface Caller {
  device: AuthenticatedDevice;
  context: ConnectionContext;
  /** Taken before authenticating: a lock or a new key since then ends a long-poll at once. */
  closeMark: number;
}

/** Custom headers repeated in one request arrive joined by node; only set-cookie stays a list. */
function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function hasKeys(values: object): boolean {
  for (const key in values) if (Object.hasOwn(values, key)) return true;
  return false;
}

const bodyOf = (request: FastifyRequest) => (typeof request.body === 'string' ? request.body : '');

/** `/provision/activate`, `/onep:v1/stack/alias`, `/onep:v1/stack/record`, `/timestamp`. */
export function registerStackRoutes(app: FastifyInstance, deps: StackRouteDeps): void {
  const { devices, clock, contexts, state } = deps;

  /** Answers with an empty body or text; while closing, the connection ends with the answer. */
  function send(reply: FastifyReply, status: number, body?: string, type?: string): FastifyReply {
    if (state.closing) void reply.header('connection', 'close');
    if (type !== undefined) void reply.type(type);
    return reply.code(status).send(body);
  }

  const shuttingDown = (reply: FastifyReply) => send(reply, 503, 'the gateway is shutting down');

  /** X-Exosite-CIK, or else (HTTPS) the TLS client certificate; nothing at all is a wrong token. */
  async function authenticate(request: FastifyRequest): Promise<Caller> {
    const socket = request.raw.socket;
    const context = contexts.of(socket);
    const token = header(request, 'x-exosite-cik');
    const certificate = token === undefined ? contexts.certificate(socket) : undefined;
    const closeMark = devices.closeMark();
    const credentials = certificate
      ? await devices.certificateCredentials(certificate)
      : { type: 'token' as const, token: token ?? '' };
    return { device: await devices.authenticate(credentials, context), context, closeMark };
  }

  /** Reads what a request asks; what cannot be read is counted as the device's malformed request. */
  function parsed<T>(identity: string | null, read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (isGatewayError(error) && error.code === 'INVALID_PARAMETER')
        devices.refused(identity, 'malformed_request');
      throw error;
    }
  }

  app.post('/provision/activate', async (request, reply) => {
    if (state.closing) return shuttingDown(reply);
    let id = '';
    let sn = '';
    // `id=<identity>`; the legacy `vendor=&model=&sn=<identity>` names it `sn`.
    for (const [name, value] of parsed(null, () => parseForm(bodyOf(request), 'body'))) {
      if (name === 'id' && id === '') id = value;
      else if (name === 'sn' && sn === '') sn = value;
    }
    const { token } = await devices.activate(id || sn, contexts.of(request.raw.socket));
    return send(reply, 200, token, 'text/plain; charset=utf-8');
  });

  async function stackAlias(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (state.closing) return shuttingDown(reply);
    const { device, context, closeMark } = await authenticate(request);
    const query = queryOf(request.url);
    const reads = request.method !== 'POST' || query !== '';
    // Everything the request asks is checked before anything is written.
    const { aliases, timeoutMs, since } = parsed(device.identity, () => {
      const aliases = reads ? readAliases(parseForm(query, 'query')) : [];
      const timeoutMs = reads ? requestTimeout(header(request, 'request-timeout')) : undefined;
      if (timeoutMs === undefined) return { aliases, timeoutMs, since: undefined };
      if (aliases.length !== 1)
        throw invalidParameter('Request-Timeout', 'a long-poll reads exactly one alias');
      return {
        aliases,
        timeoutMs,
        since: sinceMicros(header(request, 'if-modified-since'), clock.nowMicros()),
      };
    });
    let wrote = false;
    if (request.method === 'POST') {
      const body = bodyOf(request);
      const values = parsed(device.identity, () => writeValues(parseForm(body, 'body')));
      if (hasKeys(values)) {
        // Resolves once the values are durable: only then may the device hear 204.
        await devices.publish(device, context, [{ values }], Buffer.byteLength(body));
        wrote = true;
      }
    }
    if (!wrote) await devices.seen(device, context);
    if (!reads) return send(reply, 204);
    if (since !== undefined)
      return longPoll(reply, device.identity, aliases[0]!, since, timeoutMs, closeMark);
    const values = await devices.readSet(device.identity, aliases);
    return hasKeys(values) ? send(reply, 200, encodeForm(values), FORM_TYPE) : send(reply, 204);
  }

  async function longPoll(
    reply: FastifyReply,
    identity: string,
    alias: string,
    since: number,
    timeoutMs: number,
    closeMark: number,
  ): Promise<FastifyReply> {
    // A device that hangs up, or the listener closing, ends the wait and frees its waiter.
    const poll = new AbortController();
    const hangUp = () => poll.abort();
    state.polls.add(poll);
    reply.raw.once('close', hangUp);
    try {
      const value = await devices.waitForSet(identity, alias, since, timeoutMs, poll.signal, closeMark);
      if (value === undefined) return send(reply, 304);
      void reply.header('last-modified', httpDate(value.timestamp));
      return send(reply, 200, encodeForm({ [alias]: value.value }), FORM_TYPE);
    } finally {
      state.polls.delete(poll);
      reply.raw.off('close', hangUp);
    }
  }

  app.get('/onep::v1/stack/alias', stackAlias);
  app.post('/onep::v1/stack/alias', stackAlias);

  app.post('/onep::v1/stack/record', async (request, reply) => {
    if (state.closing) return shuttingDown(reply);
    const { device, context } = await authenticate(request);
    const body = bodyOf(request);
    const records = parsed(device.identity, () => recordValues(parseForm(body, 'body')));
    if (records.length > 0) await devices.publish(device, context, records, Buffer.byteLength(body));
    else await devices.seen(device, context);
    return send(reply, 204);
  });

  app.get('/timestamp', (_request, reply) =>
    send(reply, 200, String(Math.floor(clock.nowMicros() / 1_000_000)), 'text/plain; charset=utf-8'),
  );
}
