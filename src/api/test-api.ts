import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createFileArchive } from '../archive/archive-files.js';
import { InProcessBus } from '../bus/in-process-bus.js';
import type { Clock } from '../core/clock.js';
import { createDeviceMetrics, type DeviceMetrics, type Scheduler } from '../core/device-metrics.js';
import { createCore } from '../core/device2.js';
import type { PartitionArchiver } from '../core/partition-archiver.js';
import type { RestoreRunner } from '../core/restore-runner.js';
import { createEventIds } from '../core/event-source.js';
import type { GatewayEvent } from '../core/events.js';
import type { OperationName, OperationParams, OperationResult } from '../core/operations.js';
import { operations } from '../core/operations.js';
import type { Store } from '../core/ports.js';
import type { WebhookTransport } from '../core/webhook-ports.js';
import { WebhookService } from '../core/webhook-service.js';
import type { DeliveryOptions } from '../events/webhook-delivery.js';
import { WebhookDispatcher } from '../events/webhook-dispatcher.js';
import { createSqliteStore } from '../storage/sqlite/sqlite-store.js';
import { buildApi } from './build-api.js';
import { EventStreamHub } from './event-stream.js';
import { createApiMetrics } from './metrics.js';

/*
 * Shared by the *-api.test.ts files. It deliberately imports nothing from vitest, so that the
 * production build, which compiles every non-test file of src/, can include it harmlessly.
 */

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** A fixed "now" (2023-11-14), µs since the epoch. */
export const T0 = 1_700_000_000_000_000;
export const SECOND = 1_000_000;
export const HOUR = 3_600 * SECOND;

/** A self-signed certificate whose CN is `cert-device`, valid until 2126. */
export const TEST_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUeStE5T5RshIy473s7HXxXYp56NgwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLY2VydC1kZXZpY2UwIBcNMjYxMTI2MDAyMTM0WhgPMjEyNjEx
MDIwMDIxMzRaMBYxFDASBgNVBAMMC2NlcnQtZGV2aWNlMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAE3zDWHAADUG/br2TadiYY3Vr04gbQjCox+vsqKktGdbVwa6L3
zUzscbrDA2Jy7KeQP08LGfnOfbZW7kXicjSjX6NTMFEwHQYDVR0OBBYEFPkopvks
1H7XpNLWOxY5/X74/kp0MB8GA1UdIwQYMBaAFPkopvks1H7XpNLWOxY5/X74/kp0
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAIW4m3gadQT5ByTS
jWNDGCKTXS0KKHj7tOPiKCMIc/zlAiBzW1FJC4pfCddQEBS0USaCwV/xKO93UYm6
x1PWhlA4fA==
-----END CERTIFICATE-----`;

/** A clock the test moves by hand, so derived statuses can be observed changing. */
export class FakeClock implements Clock {
  constructor(public now = T0) {}
  nowMicros(): number {
    return this.now;
  }
  advance(micros: number): void {
    this.now += micros;
  }
}

export interface ApiReply {
  status: number;
  headers: Record<string, unknown>;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
  text: string;
}

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  clock: FakeClock;
  /** The device metrics behind getDeviceMetrics, to record as the connectivity code would. */
  deviceMetrics: DeviceMetrics;
  /** Every event the core published, in order. */
  events: GatewayEvent[];
  webhooks: WebhookService;
  /** The daily archive files' directory, retention's archive, and the background restore. */
  archiveDir: string;
  archiver: PartitionArchiver;
  restoreRunner: RestoreRunner;
  /** POSTs `body` (serialised unless already a string) to an operation with the admin token. */
  call(operation: string, body?: unknown, headers?: Record<string, string>): Promise<ApiReply>;
  /** Calls an operation that must succeed with its documented status, and returns its answer. */
  ok<K extends OperationName>(operation: K, params: OperationParams<K>): Promise<OperationResult<K>>;
  /** Everything the management API can show of the stored data, for before/after comparisons. */
  dump(): Promise<unknown>;
  close(): Promise<void>;
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Refuses every webhook delivery: API tests have no receiver. */
const noReceiver: WebhookTransport = {
  post: () => Promise.resolve({ ok: false, error: 'no receiver in API tests' }),
};

export interface TestApiOptions {
  bodyLimit?: number;
  webhookTransport?: WebhookTransport;
  webhookDelivery?: Partial<DeliveryOptions>;
  /** The connected gauge of the device metrics (0 unless given). */
  connectedCount?: () => number;
  /** Timer of the device metrics and of restored data's expiry; by default none runs. */
  scheduler?: Scheduler;
  /** A database file, for tests that inspect it; by default the database is in memory. */
  databaseFile?: string;
  /** The archive directory; by default a new temporary one. */
  archiveDir?: string;
  /** How long a restore URL may stay silent (default 5 s). */
  restoreUrlTimeoutMs?: number;
  restoreBatchRows?: number;
}

export async function startTestApi({
  connectedCount,
  scheduler,
  databaseFile,
  archiveDir = mkdtempSync(join(tmpdir(), 'fleetgate-archive-')),
  restoreUrlTimeoutMs = 5000,
  restoreBatchRows,
  ...options
}: TestApiOptions = {}): Promise<TestApi> {
  const store = createSqliteStore(databaseFile ?? ':memory:');
  const clock = new FakeClock();
  const events: GatewayEvent[] = [];
  const logger = pino({ level: 'silent' });
  const bus = new InProcessBus(() => {});
  bus.subscribe((event) => events.push(event));
  const deviceMetrics = createDeviceMetrics({
    store: store.deviceMetrics,
    clock,
    connectedCount: connectedCount ?? (() => 0),
    scheduler: scheduler ?? (() => () => {}),
  });
  const { device2, archiver, restoreRunner } = createCore({
    store,
    events: bus,
    clock,
    metrics: deviceMetrics,
    archive: {
      files: createFileArchive({
        dir: archiveDir,
        urlTimeoutMs: restoreUrlTimeoutMs,
        now: () => clock.nowMicros(),
      }),
      restoreBatchRows,
      scheduler: scheduler ?? (() => () => {}),
    },
  });
  restoreRunner.start();
  const ids = createEventIds();
  const dispatcher = new WebhookDispatcher({
    source: bus,
    ids,
    store: store.webhooks,
    transport: options.webhookTransport ?? noReceiver,
    clock,
    log: logger,
    options: {
      retry: { maxAttempts: 1, firstDelayMs: 1, factor: 1, maxDelayMs: 1 },
      ...options.webhookDelivery,
    },
  });
  const webhooks = new WebhookService({ store: store.webhooks, control: dispatcher, clock });
  await dispatcher.start();
  const metrics = createApiMetrics(async () => (await device2.countIdentities({})).count);
  const app = buildApi({
    device2,
    webhooks,
    eventStream: new EventStreamHub(bus, ids, logger),
    adminToken: ADMIN_TOKEN,
    metrics,
    logger,
    version: '0.0.0-test',
    ...(options.bodyLimit !== undefined && { bodyLimit: options.bodyLimit }),
  });
  await app.ready();

  async function call(operation: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/device2/${operation}`,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      body: parse(response.body),
      text: response.body,
    };
  }

  async function ok<K extends OperationName>(operation: K, params: OperationParams<K>) {
    const reply = await call(operation, params);
    if (reply.status !== operations[operation].status) {
      throw new Error(`${operation} answered ${reply.status}: ${reply.text}`);
    }
    return reply.body as OperationResult<K>;
  }

  async function dump() {
    const { devices } = await ok('listIdentities', { limit: 2000, order: 'identity' });
    const permissions: Record<string, unknown> = {};
    for (const device of devices) {
      permissions[device.identity] = await ok('getIdentityPermission', { identity: device.identity });
    }
    return {
      devices,
      permissions,
      tagNames: await ok('listTagNames', {}),
      resources: await ok('getGatewayResourceList', {}),
      settings: await ok('getGatewaySettings', {}),
    };
  }

  return {
    app,
    store,
    clock,
    deviceMetrics,
    events,
    webhooks,
    archiveDir,
    archiver,
    restoreRunner,
    call,
    ok,
    dump,
    async close() {
      await app.close();
      await restoreRunner.stop();
      await deviceMetrics.stop();
      await dispatcher.stop();
      await store.close();
    },
  };
}

/**
 * Asserts that `reply` is an error of `status` with exactly the `{code, message}` body of
 * CONTRACT §2, whose message names `parameter` when one is given; returns the message.
 */
export function assertError(reply: ApiReply, status: number, parameter?: string): string {
  const where = `${reply.status} ${reply.text}`;
  assert.equal(reply.status, status, `expected ${status}, got ${where}`);
  const body = reply.body as { code?: unknown; message?: unknown } | undefined;
  assert.ok(typeof body === 'object' && body !== null, `not a JSON error body: ${where}`);
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message'], `not a {code, message} body: ${where}`);
  assert.equal(body.code, status, `code differs from the HTTP status: ${where}`);
  assert.ok(typeof body.message === 'string' && body.message !== '', `no message: ${where}`);
  if (parameter !== undefined) {
    assert.ok(body.message.includes(parameter), `the message does not name "${parameter}": ${where}`);
  }
  return body.message;
}

/**
 * Five identities, one per lifecycle status, with contact history, tags and a reported `temp`:
 *
 * | identity | status      | lastseen  | lastip   | online | tags                                                | temp |
 * | alpha    | provisioned | T0 - 3 h  | 10.0.0.1 | yes    | site=north, device-type=camera, installed=20020101  | 20   |
 * | bravo    | whitelisted | T0 - 2 h  | 10.0.0.2 | no     | site=south, device-type=camera, installed=20050101  | 5    |
 * | charlie  | locked      | T0 - 1 h  | 10.0.0.1 | yes    | site=north, device-type=sensor, installed=20010101  | 30   |
 * | delta    | expired     | never     | -        | no     | -                                                   | -    |
 * | echo     | reprovision | T0        | 10.0.0.3 | no     | site=north, site=east                               | -    |
 */
export async function seedFleet(api: TestApi): Promise<void> {
  await api.ok('addResource', { alias: 'temp', format: 'number', settable: true, sync: false });
  await api.ok('addIdentity', { identity: 'alpha', auth: { key: 'token-alpha' } });
  await api.ok('addIdentity', { identity: 'bravo', auth: { expire: T0 + HOUR } });
  await api.ok('addIdentity', { identity: 'charlie', locked: true });
  await api.ok('addIdentity', { identity: 'delta', auth: { expire: T0 - 1 } });
  await api.ok('addIdentity', { identity: 'echo', auth: { key: 'token-echo', expire: T0 - 1 } });
  const seen: [string, number, string, boolean][] = [
    ['alpha', T0 - 3 * HOUR, '10.0.0.1', true],
    ['bravo', T0 - 2 * HOUR, '10.0.0.2', false],
    ['charlie', T0 - HOUR, '10.0.0.1', true],
    ['echo', T0, '10.0.0.3', false],
  ];
  for (const [identity, at, ip, online] of seen)
    await api.store.identities.markSeen(identity, { at, ip, online });
  const tags: [string, [string, string][]][] = [
    [
      'alpha',
      [
        ['site', 'north'],
        ['device-type', 'camera'],
        ['installed', '20020101'],
      ],
    ],
    [
      'bravo',
      [
        ['site', 'south'],
        ['device-type', 'camera'],
        ['installed', '20050101'],
      ],
    ],
    [
      'charlie',
      [
        ['site', 'north'],
        ['device-type', 'sensor'],
        ['installed', '20010101'],
      ],
    ],
    [
      'echo',
      [
        ['site', 'north'],
        ['site', 'east'],
      ],
    ],
  ];
  for (const [identity, pairs] of tags) {
    await api.ok('addIdentityTag', { identity, tags: pairs.map(([name, value]) => ({ name, value })) });
  }
  for (const [identity, temp] of [
    ['alpha', 20],
    ['bravo', 5],
    ['charlie', 30],
  ] as const) {
    await api.ok('setIdentityState', { identity, temp });
  }
}
