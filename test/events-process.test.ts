import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDevice2Client } from 'fleetgate/client';
import { startGateway, type RunningGateway } from './support/gateway-process.js';
import { openEventStream } from './support/event-stream-reader.js';

const WAIT = { timeout: 20_000, interval: 50 };

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop('SIGKILL')));
});

async function start(options?: Parameters<typeof startGateway>[0]) {
  const gateway = await startGateway(options);
  running.push(gateway);
  return gateway;
}

/** Writes an event handler module to a fresh directory and returns its path. */
function handlerModule(source: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fleetgate-handler-')), 'handler.mjs');
  writeFileSync(path, source);
  return path;
}

const summary = (data: unknown) => {
  const e = data as { type: string; identity: string };
  return `${e.type}:${e.identity}`;
};

describe('the event stream, through the real process', () => {
  it('streams events as Server-Sent Events, filtered by type and identity, and ends the streams on stop', async () => {
    const gateway = await start();
    const token = gateway.token();
    const device2 = createDevice2Client({ url: gateway.url, token });
    await device2.addResource({ alias: 'temp', format: 'number', settable: true });
    const everything = await openEventStream(`${gateway.url}/api/v1/events`, token);
    const deletions = await openEventStream(`${gateway.url}/api/v1/events?type=deleted`, token);
    const ofDev2 = await openEventStream(`${gateway.url}/api/v1/events?identity=dev-2,dev-9`, token);
    expect(everything.status).toBe(200);
    expect(everything.contentType).toMatch(/^text\/event-stream/);

    for (const identity of ['dev-1', 'dev-2']) {
      await device2.addIdentity({ identity });
      await device2.setIdentityState({ identity, temp: 20, simulate: true });
    }
    await device2.removeIdentity({ identity: 'dev-1' });

    await vi.waitFor(() => expect(everything.messages).toHaveLength(3), WAIT);
    await vi.waitFor(() => expect(deletions.messages).toHaveLength(1), WAIT);
    await vi.waitFor(() => expect(ofDev2.messages).toHaveLength(1), WAIT);
    expect(everything.messages.map((m) => summary(m.data))).toEqual([
      'data_in:dev-1',
      'data_in:dev-2',
      'deleted:dev-1',
    ]);
    expect(deletions.messages.map((m) => summary(m.data))).toEqual(['deleted:dev-1']);
    expect(ofDev2.messages.map((m) => summary(m.data))).toEqual(['data_in:dev-2']);
    for (const message of everything.messages) {
      expect(message.event).toBe((message.data as { type: string }).type);
      expect(message.id).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(deletions.messages[0]!.id).toBe(everything.messages[2]!.id);

    expect(await gateway.stop('SIGTERM')).toBe(0);
    await Promise.all([everything.ended, deletions.ended, ofDev2.ended]);
  });

  it('replays to a stream that reconnects with Last-Event-ID the events it missed', async () => {
    const gateway = await start();
    const token = gateway.token();
    const device2 = createDevice2Client({ url: gateway.url, token });
    await device2.addIdentity({ identity: 'dev-1' });
    const first = await openEventStream(`${gateway.url}/api/v1/events`, token);
    await device2.removeIdentity({ identity: 'dev-1' });
    await vi.waitFor(() => expect(first.messages).toHaveLength(1), WAIT);
    await first.cancel();
    for (const identity of ['dev-2', 'dev-3']) {
      await device2.addIdentity({ identity });
      await device2.removeIdentity({ identity });
    }
    const again = await openEventStream(`${gateway.url}/api/v1/events`, token, {
      'last-event-id': first.messages[0]!.id!,
    });
    await vi.waitFor(() => expect(again.messages).toHaveLength(2), WAIT);
    expect(again.messages.map((m) => summary(m.data))).toEqual(['deleted:dev-2', 'deleted:dev-3']);
    const unknown = await openEventStream(`${gateway.url}/api/v1/events`, token, { 'last-event-id': 'gone' });
    await vi.waitFor(() => expect(unknown.messages).toHaveLength(1), WAIT);
    expect(unknown.messages[0]).toMatchObject({ event: 'missed', data: { after: 'gone' } });
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });
});

describe('the event handler module, through the real process', () => {
  it('is called with each event and the device2 API, whose calls take effect', async () => {
    const module = handlerModule(`
      export default async function (event, device2) {
        if (event.type !== 'data_in') return;
        const temp = event.payload[0].values.temp;
        await device2.addIdentityTag({ identity: event.identity, tags: [{ name: 'last-temp', value: String(temp) }], replace: true });
      }
    `);
    const gateway = await start({ args: ['--event-handler', module] });
    expect(gateway.logs).toContainEqual(expect.objectContaining({ msg: 'event handler loaded', module }));
    const device2 = createDevice2Client({ url: gateway.url, token: gateway.token() });
    await device2.addResource({ alias: 'temp', format: 'number', settable: true });
    await device2.addIdentity({ identity: 'dev-1' });
    await device2.setIdentityState({ identity: 'dev-1', temp: 21, simulate: true });
    await vi.waitFor(
      async () =>
        expect(await device2.getIdentityTag({ identity: 'dev-1', name: 'last-temp' })).toEqual(['21']),
      WAIT,
    );
    await device2.setIdentityState({ identity: 'dev-1', temp: 22, simulate: true });
    await vi.waitFor(
      async () =>
        expect(await device2.getIdentityTag({ identity: 'dev-1', name: 'last-temp' })).toEqual(['22']),
      WAIT,
    );
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });

  it('keeps across a stop what it has not handled, and gets the disconnects of the stop', async () => {
    // Each call appends "<type> <identity>". While the file \`slow\` exists, a call for dev-slow
    // outlasts the 5 s a stop waits.
    const dir = mkdtempSync(join(tmpdir(), 'fleetgate-handled-'));
    const file = join(dir, 'handled.txt');
    const slow = join(dir, 'slow');
    writeFileSync(slow, '');
    const module = handlerModule(`
      import { appendFileSync, existsSync } from 'node:fs';
      export default async function (event) {
        if (event.identity === 'dev-slow' && existsSync(${JSON.stringify(slow)}))
          await new Promise((r) => setTimeout(r, 60_000));
        appendFileSync(${JSON.stringify(file)}, event.type + ' ' + event.identity + '\\n');
      }
    `);
    const handled = () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);
    const first = await start({ args: ['--event-handler', module] });
    const device2 = createDevice2Client({ url: first.url, token: first.token() });
    await device2.addIdentity({ identity: 'dev-mqtt', auth: { type: 'token', key: 'k'.repeat(40) } });
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${first.ports.mqtt}`, {
      username: '',
      password: 'k'.repeat(40),
      reconnectPeriod: 0,
    });
    device.on('error', () => {});
    await vi.waitFor(() => expect(handled()).toContain('connect dev-mqtt'), WAIT);
    await device2.addIdentity({ identity: 'dev-slow' });
    await device2.removeIdentity({ identity: 'dev-slow' });
    await device2.addIdentity({ identity: 'dev-slow' });
    await device2.removeIdentity({ identity: 'dev-slow' });
    expect(await first.stop('SIGTERM')).toBe(0);
    device.end(true);
    expect(handled().filter((l) => l.endsWith('dev-slow'))).toEqual([]);
    rmSync(slow);

    const second = await start({ dataDir: first.dataDir, args: ['--event-handler', module] });
    await vi.waitFor(() => expect(handled().filter((l) => l.endsWith('dev-slow'))).toHaveLength(2), WAIT);
    expect(handled().filter((l) => l.endsWith('dev-slow'))).toEqual(['deleted dev-slow', 'deleted dev-slow']);
    expect(handled()).toContain('disconnect dev-mqtt');
    expect(await second.stop('SIGTERM')).toBe(0);
  });

  it('logs a handler that throws, or leaves a rejection behind, and the gateway keeps serving', async () => {
    const module = handlerModule(`
      export default async function (event) {
        Promise.reject(new Error('detached failure of ' + event.identity));
        throw new Error('handler exploded on ' + event.identity);
      }
    `);
    const gateway = await start({ env: { FLEETGATE_EVENT_HANDLER: module } });
    const device2 = createDevice2Client({ url: gateway.url, token: gateway.token() });
    await device2.addIdentity({ identity: 'dev-1' });
    await device2.removeIdentity({ identity: 'dev-1' });
    await device2.addIdentity({ identity: 'dev-2' });
    await device2.removeIdentity({ identity: 'dev-2' });
    const errors = () =>
      gateway.logs
        .filter((l) => l.msg === 'event handler failed' || l.msg === 'unhandled rejection')
        .map((l) => (l.err as { message: string }).message);
    await vi.waitFor(() => expect(errors()).toHaveLength(4), WAIT);
    expect(errors().sort()).toEqual([
      'detached failure of dev-1',
      'detached failure of dev-2',
      'handler exploded on dev-1',
      'handler exploded on dev-2',
    ]);
    expect(await (await fetch(`${gateway.url}/health`)).text()).toBe('OK');
    expect(await device2.countIdentities({})).toEqual({ count: 0 });
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });

  it.each([
    ['has no default export function', 'export const handler = () => {};', /has no default export function/],
    ['does not parse', 'export default async function (event {', /cannot load .*handler\.mjs/],
  ])('refuses to start when the module %s, naming the setting', async (_case, source, reason) => {
    const module = handlerModule(source);
    const failure = start({ args: ['--event-handler', module] });
    await expect(failure).rejects.toThrow(
      /exited with 1: fleetgate: FLEETGATE_EVENT_HANDLER \(--event-handler\): /,
    );
    await expect(failure).rejects.toThrow(reason);
  });
});
