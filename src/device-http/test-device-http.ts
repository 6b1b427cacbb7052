import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createFileArchive } from '../archive/archive-files.js';
import { InProcessBus } from '../bus/in-process-bus.js';
import { FakeClock } from '../api/test-api.js';
import { createCore } from '../core/device2.js';
import { createDeviceMetrics } from '../core/device-metrics.js';
import type { DeviceService } from '../core/device-service.js';
import type { GatewayEvent } from '../core/events.js';
import type { Device2Api } from '../core/operations.js';
import type { Store } from '../core/ports.js';
import { committedSamples } from '../storage/sqlite/committed-samples.js';
import { createSqliteStore } from '../storage/sqlite/sqlite-store.js';
import { strictIngestThread } from '../storage/sqlite/test-ingest.js';
import { buildDeviceHttp } from './build-device-http.js';

/*
 * Shared by the device-http *.test.ts files; like test-api.ts it imports nothing from vitest
 * (the build leaves test-*.ts out anyway).
 */

export interface TestDeviceHttp {
  url: string;
  device2: Device2Api;
  devices: DeviceService;
  store: Store;
  clock: FakeClock;
  bus: InProcessBus;
  /** Every event the core published, in order. */
  events: GatewayEvent[];
  /** What the listener logged as failures (none, normally). */
  errors: unknown[];
  app: FastifyInstance;
  /** The samples stored so far, read through a second connection (only with `file: true`). */
  samples(): { identity: string; resource: string; timestamp: number; value: unknown }[];
  close(): Promise<void>;
}

/**
 * The gateway core over a fresh SQLite store, with the HTTP device API listening on a free port.
 * `file: true` puts the store in a temporary file, so that a second connection can see what was
 * committed; `tls` makes it the HTTPS listener.
 */
export async function startDeviceHttp(
  options: { file?: boolean; tls?: { cert: string; key: string } } = {},
): Promise<TestDeviceHttp> {
  const path = options.file ? join(mkdtempSync(join(tmpdir(), 'fleetgate-http-')), 'test.db') : ':memory:';
  const store = createSqliteStore(path, strictIngestThread);
  const clock = new FakeClock();
  const events: GatewayEvent[] = [];
  const errors: unknown[] = [];
  const bus = new InProcessBus((error) => errors.push(error));
  bus.subscribe((event) => events.push(event));
  const metrics = createDeviceMetrics({ store: store.deviceMetrics, clock, connectedCount: () => 0 });
  const archive = {
    files: createFileArchive({ dir: mkdtempSync(join(tmpdir(), 'fleetgate-archive-')), urlTimeoutMs: 5000 }),
  };
  const { device2, devices } = createCore({ store, events: bus, clock, metrics, archive });
  const app = buildDeviceHttp({
    devices,
    clock,
    logger: { error: (details: unknown) => void errors.push(details) } as never,
    protocol: options.tls ? 'https' : 'http',
    ...(options.tls && { tls: options.tls }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    device2,
    devices,
    store,
    clock,
    bus,
    events,
    errors,
    app,
    samples() {
      if (path === ':memory:') throw new Error('samples() needs startDeviceHttp({ file: true })');
      return committedSamples(path);
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** Form-posts `body` to `path` with the device's token (when given); answers status, headers, text. */
export async function post(
  server: TestDeviceHttp,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export async function get(
  server: TestDeviceHttp,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Activates `identity` over HTTP and returns its token. */
export async function activate(server: TestDeviceHttp, identity: string): Promise<string> {
  const reply = await post(server, '/provision/activate', `id=${encodeURIComponent(identity)}`);
  if (reply.status !== 200) throw new Error(`activate ${identity}: ${reply.status} ${reply.text}`);
  return reply.text;
}
