import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDevice2Client } from 'fleetgate/client';
import { newDataDir, startGateway, type RunningGateway } from './support/gateway-process.js';
import { startReceiver, type ReceivedPost, type WebhookReceiver } from './support/webhook-receiver.js';

const SECRET = 'e2e-webhook-secret-0123';
const WAIT = { timeout: 20_000, interval: 50 };

const running: RunningGateway[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function start(options?: Parameters<typeof startGateway>[0]) {
  const gateway = await startGateway(options);
  running.push(gateway);
  return gateway;
}

async function receiver(respond?: WebhookReceiver['respond']) {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

const configured = (r: WebhookReceiver) => ({
  env: { FLEETGATE_WEBHOOK_URL: r.url, FLEETGATE_WEBHOOK_SECRET: SECRET },
});

/** The receiver's side of docs/events.md: HMAC-SHA256 of the raw body under the shared secret. */
function signatureValid(post: ReceivedPost, secret = SECRET): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(post.body).digest('hex')}`;
  return post.headers['x-fleetgate-signature'] === expected;
}

describe('webhooks, through the real process', () => {
  it('POSTs the events of setIdentityState {simulate} and removeIdentity, signed, to the configured webhook', async () => {
    const hooks = await receiver();
    const gateway = await start(configured(hooks));
    const device2 = createDevice2Client({ url: gateway.url, token: gateway.token() });
    await device2.addResource({ alias: 'temp', format: 'number', settable: true });
    await device2.addIdentity({ identity: 'dev-1' });
    await device2.setIdentityState({ identity: 'dev-1', temp: 21, simulate: true });
    await device2.removeIdentity({ identity: 'dev-1' });

    await vi.waitFor(() => expect(hooks.posts).toHaveLength(2), WAIT);
    const [dataIn, deleted] = hooks.posts.map((p) => JSON.parse(p.body) as Record<string, unknown>);
    expect(dataIn).toEqual({
      type: 'data_in',
      identity: 'dev-1',
      ip: null,
      protocol: 'simulate',
      timestamp: expect.any(Number) as number,
      connection_id: null,
      payload: [{ timestamp: dataIn!.timestamp, values: { temp: 21 } }],
      updated_resources: ['temp'],
    });
    expect(deleted).toMatchObject({ type: 'deleted', identity: 'dev-1', protocol: 'api' });
    for (const post of hooks.posts) {
      expect(signatureValid(post)).toBe(true);
      expect(signatureValid(post, 'another-secret-0123456')).toBe(false);
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.headers['x-fleetgate-webhook-id']).toBe('config');
      expect(post.headers['x-fleetgate-attempt']).toBe('1');
      expect(Math.abs(Number(post.headers['x-fleetgate-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    }
    expect(hooks.posts[0]!.headers['x-fleetgate-event-type']).toBe('data_in');
    expect(hooks.posts[0]!.headers['x-fleetgate-event-id']).not.toBe(
      hooks.posts[1]!.headers['x-fleetgate-event-id'],
    );

    const listed = await fetch(`${gateway.url}/api/v1/webhooks`, {
      headers: { authorization: `Bearer ${gateway.token()}` },
    });
    expect(await listed.json()).toEqual({
      webhooks: [
        expect.objectContaining({ id: 'config', url: hooks.url, source: 'config', pending: 0, failed: 0 }),
      ],
    });
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });

  it('retries a delivery the receiver refused, with the same event id and signature', async () => {
    const hooks = await receiver((_post, n) => (n === 0 ? 500 : 204));
    const gateway = await start(configured(hooks));
    const device2 = createDevice2Client({ url: gateway.url, token: gateway.token() });
    await device2.addIdentity({ identity: 'dev-1' });
    await device2.removeIdentity({ identity: 'dev-1' });

    await vi.waitFor(() => expect(hooks.posts).toHaveLength(2), WAIT);
    const [refused, retried] = hooks.posts;
    expect(retried!.body).toBe(refused!.body);
    expect(retried!.headers['x-fleetgate-event-id']).toBe(refused!.headers['x-fleetgate-event-id']);
    expect([refused!.headers['x-fleetgate-attempt'], retried!.headers['x-fleetgate-attempt']]).toEqual([
      '1',
      '2',
    ]);
    expect(signatureValid(retried!)).toBe(true);
  });

  it('delivers after a restart what was still pending when the gateway stopped', async () => {
    const hooks = await receiver((_post, n) => (n === 0 ? 'hang' : 204));
    const dataDir = newDataDir();
    const first = await start({ dataDir });
    const headers = { authorization: `Bearer ${first.token()}`, 'content-type': 'application/json' };
    const created = await fetch(`${first.url}/api/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: hooks.url, secret: SECRET, types: ['deleted'] }),
    });
    expect(created.status).toBe(201);
    const device2 = createDevice2Client({ url: first.url, token: first.token() });
    await device2.addIdentity({ identity: 'dev-1' });
    await device2.removeIdentity({ identity: 'dev-1' });
    await vi.waitFor(() => expect(hooks.posts).toHaveLength(1), WAIT);
    // The receiver has not answered: stopping abandons the attempt rather than waiting for it.
    expect(await first.stop('SIGTERM')).toBe(0);

    await start({ dataDir });
    await vi.waitFor(() => expect(hooks.posts).toHaveLength(2), WAIT);
    const [abandoned, delivered] = hooks.posts;
    expect(delivered!.headers['x-fleetgate-event-id']).toBe(abandoned!.headers['x-fleetgate-event-id']);
    expect(JSON.parse(delivered!.body)).toMatchObject({ type: 'deleted', identity: 'dev-1' });
    expect(signatureValid(delivered!)).toBe(true);
  });

  it('refuses to start with a webhook URL but no secret, naming the setting', async () => {
    const hooks = await receiver();
    await expect(start({ env: { FLEETGATE_WEBHOOK_URL: hooks.url } })).rejects.toThrow(
      /FLEETGATE_WEBHOOK_SECRET \(--webhook-secret\): required with FLEETGATE_WEBHOOK_URL/,
    );
  });
});
