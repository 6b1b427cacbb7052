import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { createFileArchive } from '../archive/archive-files.js';
import { InProcessBus } from '../bus/in-process-bus.js';
import { systemClock } from '../core/clock.js';
import { createCore } from '../core/device2.js';
import { createDeviceMetrics } from '../core/device-metrics.js';
import type { GatewayEvent } from '../core/events.js';
import { committedSamples } from '../storage/sqlite/committed-samples.js';
import { createSqliteStore } from '../storage/sqlite/sqlite-store.js';
import { strictIngestThread } from '../storage/sqlite/test-ingest.js';
import { createMqttBroker } from './mqtt-broker.js';
import { closeMqtt, createMqttListeners, listen } from './mqtt-listeners.js';

/*
 * Shared by the MQTT tests: the real core over a SQLite file and the real broker on port 0. It
 * imports nothing from vitest, so the production build can include it harmlessly.
 */

export interface RecordedActivity {
  metric: string;
  identity: string | null;
  value: number;
  reason: string | undefined;
}

export async function startMqttGateway(
  options: {
    tls?: { certFile: string; keyFile: string };
    connectTimeoutMs?: number;
    drainTimeoutMs?: number;
    /** As an at-least-once consumer's: what the gateway waits for before acknowledging. */
    keep?: () => Promise<void> | undefined;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-mqtt-'));
  const file = join(dir, 'fleetgate.db');
  const store = createSqliteStore(file, strictIngestThread);
  const events: GatewayEvent[] = [];
  const bus = new InProcessBus((error) => {
    throw error;
  });
  bus.subscribe((event) => events.push(event), options.keep);
  const activity: RecordedActivity[] = [];
  const recorder = {
    record(metric: string, identity: string | null, value = 1, reason?: string) {
      activity.push({ metric, identity, value, reason });
    },
    recordPublish(identity: string, bytes: number, resources: number, _atMicros: number) {
      this.record('publish_count', identity);
      this.record('publish_size', identity, bytes);
      this.record('publish_resource_count', identity, resources);
    },
  };
  const metrics = createDeviceMetrics({
    store: store.deviceMetrics,
    clock: systemClock,
    connectedCount: () => 0,
  });
  const { device2, devices, signals } = createCore({
    store,
    events: bus,
    clock: systemClock,
    metrics: { recorder, query: (params) => metrics.query(params) },
    archive: { files: createFileArchive({ dir: join(dir, 'archive'), urlTimeoutMs: 5000 }) },
  });
  const logger = pino({ level: 'silent' });
  const broker = await createMqttBroker({
    devices,
    signals,
    activity: recorder,
    logger,
    connectTimeoutMs: options.connectTimeoutMs,
    drainTimeoutMs: options.drainTimeoutMs,
  });
  const listeners = createMqttListeners(broker, {
    bind: '127.0.0.1',
    mqttPort: 0,
    mqttsPort: 0,
    tls: options.tls,
  });
  const ports = await Promise.all(listeners.map((l) => listen(l, '127.0.0.1')));
  let closed = false;
  return {
    device2,
    devices,
    broker,
    events,
    activity,
    url: `mqtt://127.0.0.1:${ports[0]}`,
    port: ports[0]!,
    tlsPort: ports[1],
    /** Every committed sample, read from the file by a separate connection. */
    samples: () => committedSamples(file),
    /** Reads the database file directly, as a separate connection would. */
    query<T>(sql: string, ...params: unknown[]): T[] {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare(sql).all(...params) as T[];
      } finally {
        db.close();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeMqtt(broker, listeners);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type MqttGateway = Awaited<ReturnType<typeof startMqttGateway>>;

/** A 40-character token of the kind activation hands out. */
export function tokenFor(seed: string): string {
  return (seed.replace(/[^A-Za-z0-9]/g, '') + 'x'.repeat(40)).slice(0, 40);
}

/** Resolves with the next message the client receives. */
export function nextMessage(client: {
  once(event: 'message', listener: (topic: string, payload: Buffer) => void): unknown;
}): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve) => {
    client.once('message', (topic, payload) => resolve({ topic, payload: payload.toString('utf8') }));
  });
}

/** Resolves when the server has closed the client's connection. */
export function closedByServer(client: {
  once(event: 'close', listener: () => void): unknown;
}): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}
