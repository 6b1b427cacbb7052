import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebhookResult } from '../core/webhook-ports.js';
import { ScriptedTransport } from '../events/test-events.js';
import { ADMIN_TOKEN, assertError, startTestApi, type ApiReply, type TestApi } from './test-api.js';

const SECRET = 'secret-0123456789';

let api: TestApi;
afterEach(async () => {
  await api.close();
});

async function request(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, token = ADMIN_TOKEN) {
  const response = await api.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  const reply: ApiReply = {
    status: response.statusCode,
    headers: response.headers,
    body: response.body === '' ? undefined : (JSON.parse(response.body) as unknown),
    text: response.body,
  };
  return reply;
}

async function create(body: Record<string, unknown> = {}) {
  const reply = await request('POST', '/api/v1/webhooks', {
    url: 'https://example.com/hook',
    secret: SECRET,
    ...body,
  });
  expect(reply.status, reply.text).toBe(201);
  return reply.body as { id: string };
}

describe('webhook management', () => {
  it('creates, lists (oldest first), shows and removes webhooks, never showing their secret', async () => {
    api = await startTestApi();
    const created = await create({ types: ['data_in', 'deleted', 'data_in'], identities: ['a', 'b'] });
    expect(created).toEqual({
      id: expect.any(String) as string,
      url: 'https://example.com/hook',
      types: ['data_in', 'deleted'],
      identities: ['a', 'b'],
      source: 'api',
      created: api.clock.now,
      pending: 0,
      failed: 0,
    });
    api.clock.advance(1);
    const plain = await create({ url: 'http://127.0.0.1:9999/other' });
    expect(plain).not.toHaveProperty('types');
    expect((await request('GET', '/api/v1/webhooks')).body).toEqual({ webhooks: [created, plain] });
    expect((await request('GET', `/api/v1/webhooks/${created.id}`)).body).toEqual(created);
    expect(JSON.stringify((await request('GET', '/api/v1/webhooks')).body)).not.toContain(SECRET);
    expect((await request('DELETE', `/api/v1/webhooks/${created.id}`)).status).toBe(204);
    assertError(await request('GET', `/api/v1/webhooks/${created.id}`), 404);
    expect((await request('GET', '/api/v1/webhooks')).body).toEqual({ webhooks: [plain] });
  });

  it.each([
    ['a URL of another scheme', { url: 'ftp://example.com/x' }, 'url'],
    ['a URL that does not parse', { url: 'not a url' }, 'url'],
    ['a URL with a password in it', { url: 'https://user:pw@example.com/x' }, 'url'],
    ['a missing secret', { secret: undefined }, 'secret'],
    ['a short secret', { secret: 'short' }, 'secret'],
    ['an unknown event type', { types: ['data_in', 'reboot'] }, 'types[1]'],
    ['an empty type filter', { types: [] }, 'types'],
    ['an identity with a comma', { identities: ['a,b'] }, 'identities[0]'],
    ['an unknown property', { retries: 3 }, 'retries'],
  ])('refuses %s with 400 naming the parameter', async (_case, change, parameter) => {
    api = await startTestApi();
    const body = { url: 'https://example.com/hook', secret: SECRET, ...change };
    assertError(await request('POST', '/api/v1/webhooks', body), 400, parameter);
    expect((await request('GET', '/api/v1/webhooks')).body).toEqual({ webhooks: [] });
  });

  it('answers 404 {code, message} for an unknown webhook on every route', async () => {
    api = await startTestApi();
    const routes: ['GET' | 'POST' | 'DELETE', string][] = [
      ['GET', '/api/v1/webhooks/nope'],
      ['DELETE', '/api/v1/webhooks/nope'],
      ['GET', '/api/v1/webhooks/nope/failed'],
      ['POST', '/api/v1/webhooks/nope/failed/retry'],
      ['DELETE', '/api/v1/webhooks/nope/failed'],
      ['POST', '/api/v1/webhooks/nope/failed/1/retry'],
      ['DELETE', '/api/v1/webhooks/nope/failed/1'],
    ];
    for (const [method, url] of routes) {
      expect(assertError(await request(method, url), 404), `${method} ${url}`).toContain('"nope"');
    }
  });

  it('requires the admin token on every webhook route and on the event stream', async () => {
    api = await startTestApi();
    assertError(await request('GET', '/api/v1/webhooks', undefined, 'wrong'), 401);
    assertError(
      await request('POST', '/api/v1/webhooks', { url: 'https://e.com', secret: SECRET }, 'wrong'),
      401,
    );
    assertError(await request('GET', '/api/v1/events', undefined, 'wrong'), 401);
  });

  it('refuses to remove the webhook of the configuration', async () => {
    api = await startTestApi();
    await api.webhooks.configure({ url: 'https://example.com/configured', secret: SECRET });
    const listed = (await request('GET', '/api/v1/webhooks')).body as { webhooks: unknown[] };
    expect(listed.webhooks).toEqual([expect.objectContaining({ id: 'config', source: 'config' })]);
    expect(assertError(await request('DELETE', '/api/v1/webhooks/config'), 409)).toContain(
      'FLEETGATE_WEBHOOK_URL',
    );
  });

  it('updates the configured webhook in place, and removes it with its deliveries once unset', async () => {
    api = await startTestApi();
    await api.webhooks.configure({ url: 'https://example.com/configured', secret: SECRET });
    await api.ok('addIdentity', { identity: 'a' });
    await api.ok('removeIdentity', { identity: 'a' });
    await vi.waitFor(async () =>
      expect((await request('GET', '/api/v1/webhooks/config')).body).toMatchObject({ failed: 1 }),
    );
    api.clock.advance(1);
    await api.webhooks.configure({ url: 'https://example.com/moved', secret: SECRET });
    expect((await request('GET', '/api/v1/webhooks/config')).body).toMatchObject({
      url: 'https://example.com/moved',
      created: api.clock.now - 1,
      failed: 1,
    });
    expect(await api.webhooks.configure(undefined)).toEqual({ removed: { pending: 0, failed: 1 } });
    expect((await request('GET', '/api/v1/webhooks')).body).toEqual({ webhooks: [] });
    expect(await api.webhooks.configure(undefined)).toEqual({});
  });

  it('refuses unknown event types in the stream filters before the stream starts', async () => {
    api = await startTestApi();
    assertError(await request('GET', '/api/v1/events?type=data_in,reboot'), 400, 'type');
    assertError(await request('GET', '/api/v1/events?colour=red'), 400, 'colour');
  });
});

describe('failed deliveries', () => {
  /** A receiver that refuses everything until `fixed` is set. */
  async function startWithReceiver() {
    const receiver = { fixed: false };
    const transport = new ScriptedTransport((): WebhookResult =>
      receiver.fixed ? { ok: true } : { ok: false, error: 'HTTP 500: receiver down' },
    );
    api = await startTestApi({ webhookTransport: transport });
    await api.ok('addIdentity', { identity: 'a' });
    await api.ok('addIdentity', { identity: 'b' });
    await api.ok('addIdentity', { identity: 'c' });
    const { id } = await create();
    for (const identity of ['a', 'b', 'c']) await api.ok('removeIdentity', { identity });
    await vi.waitFor(async () =>
      expect((await request('GET', `/api/v1/webhooks/${id}`)).body).toMatchObject({ failed: 3 }),
    );
    return { id, receiver, transport };
  }

  it('lists failed deliveries with the event, attempts, last error and times, page by page', async () => {
    const { id } = await startWithReceiver();
    const first = (await request('GET', `/api/v1/webhooks/${id}/failed?limit=2`)).body as {
      deliveries: { id: number; event: { identity: string } }[];
      mayLoadMore: boolean;
    };
    expect(first.mayLoadMore).toBe(true);
    expect(first.deliveries[0]).toEqual({
      id: expect.any(Number) as number,
      eventId: expect.any(String) as string,
      event: {
        type: 'deleted',
        identity: 'a',
        ip: null,
        protocol: 'api',
        timestamp: api.clock.now,
        connection_id: null,
      },
      attempts: 1,
      lastError: 'HTTP 500: receiver down',
      created: api.clock.now,
      failedAt: api.clock.now,
    });
    const after = first.deliveries[1]!.id;
    const rest = (await request('GET', `/api/v1/webhooks/${id}/failed?after=${after}`)).body as typeof first;
    expect(rest.mayLoadMore).toBe(false);
    expect([...first.deliveries, ...rest.deliveries].map((d) => d.event.identity)).toEqual(['a', 'b', 'c']);
    assertError(await request('GET', `/api/v1/webhooks/${id}/failed?limit=0`), 400, 'limit');
    assertError(await request('GET', `/api/v1/webhooks/${id}/failed?limit=many`), 400, 'limit');
  });

  it('retries one failed delivery, or all of them, until delivered', async () => {
    const { id, receiver, transport } = await startWithReceiver();
    const { deliveries } = (await request('GET', `/api/v1/webhooks/${id}/failed`)).body as {
      deliveries: { id: number }[];
    };
    receiver.fixed = true;
    expect((await request('POST', `/api/v1/webhooks/${id}/failed/${deliveries[1]!.id}/retry`)).status).toBe(
      204,
    );
    await vi.waitFor(() => expect(transport.delivered().map((e) => e.identity)).toEqual(['b']));
    assertError(await request('POST', `/api/v1/webhooks/${id}/failed/${deliveries[1]!.id}/retry`), 404);
    expect((await request('POST', `/api/v1/webhooks/${id}/failed/retry`)).body).toEqual({ retried: 2 });
    await vi.waitFor(() => expect(transport.delivered().map((e) => e.identity)).toEqual(['b', 'a', 'c']));
    expect((await request('GET', `/api/v1/webhooks/${id}`)).body).toMatchObject({ pending: 0, failed: 0 });
  });

  it('discards one failed delivery, or all of them', async () => {
    const { id } = await startWithReceiver();
    const { deliveries } = (await request('GET', `/api/v1/webhooks/${id}/failed`)).body as {
      deliveries: { id: number }[];
    };
    expect((await request('DELETE', `/api/v1/webhooks/${id}/failed/${deliveries[0]!.id}`)).status).toBe(204);
    assertError(await request('DELETE', `/api/v1/webhooks/${id}/failed/${deliveries[0]!.id}`), 404);
    assertError(await request('DELETE', `/api/v1/webhooks/${id}/failed/first`), 400, 'delivery');
    expect((await request('DELETE', `/api/v1/webhooks/${id}/failed`)).body).toEqual({ discarded: 2 });
    expect((await request('GET', `/api/v1/webhooks/${id}`)).body).toMatchObject({ pending: 0, failed: 0 });
  });
});

describe('the OpenAPI document', () => {
  it('describes the webhook routes with the schemas that validate them, and the event stream', async () => {
    api = await startTestApi();
    const document = (await request('GET', '/api/v1/openapi.json')).body as {
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
    };
    const operations = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/api/v1/webhooks') || path === '/api/v1/events')
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => `${method} ${path} ${op.operationId}`),
      );
    expect(operations.sort()).toEqual(
      [
        'delete /api/v1/webhooks/{id} removeWebhook',
        'delete /api/v1/webhooks/{id}/failed discardFailedDeliveries',
        'delete /api/v1/webhooks/{id}/failed/{delivery} discardFailedDelivery',
        'get /api/v1/events streamEvents',
        'get /api/v1/webhooks listWebhooks',
        'get /api/v1/webhooks/{id} getWebhook',
        'get /api/v1/webhooks/{id}/failed listFailedDeliveries',
        'post /api/v1/webhooks createWebhook',
        'post /api/v1/webhooks/{id}/failed/retry retryFailedDeliveries',
        'post /api/v1/webhooks/{id}/failed/{delivery}/retry retryFailedDelivery',
      ].sort(),
    );
    const createOp = document.paths['/api/v1/webhooks']!.post as unknown as {
      requestBody: { content: { 'application/json': { schema: { required: string[] } } } };
      responses: Record<string, { content?: { 'application/json': { schema: { properties: object } } } }>;
    };
    expect(createOp.requestBody.content['application/json'].schema.required).toEqual(['url', 'secret']);
    expect(Object.keys(createOp.responses['201']!.content!['application/json'].schema.properties)).toContain(
      'pending',
    );
    expect(Object.keys(createOp.responses)).toEqual(expect.arrayContaining(['201', '400', '401']));
  });
});
