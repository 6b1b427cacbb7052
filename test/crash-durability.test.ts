import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDevice2Client } from 'fleetgate/client';
import { startGateway, type RunningGateway } from './support/gateway-process.js';

const DEVICES = 4;
const IN_FLIGHT = 8;
const token = (n: number) => `crashdevice${n}`.padEnd(40, 'k');

let gateway: RunningGateway | undefined;
afterEach(async () => {
  await gateway?.stop('SIGKILL');
});

/**
 * Publishes 0, 1, 2, … with IN_FLIGHT messages outstanding, recording each PUBACK, until the
 * connection dies; resolves when it has (publishes in flight then never settle).
 */
async function publishUntilKilled(url: string, n: number, acked: Set<number>): Promise<void> {
  const client = await mqtt.connectAsync(url, { username: '', password: token(n), reconnectPeriod: 0 });
  client.on('error', () => {});
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  let next = 0;
  const lane = () => {
    if (!client.connected) return;
    const value = next++;
    client.publish('$resource/counter', String(value), { qos: 1 }, (error) => {
      if (error) return;
      acked.add(value);
      lane();
    });
  };
  for (let k = 0; k < IN_FLIGHT; k++) lane();
  await closed;
  client.end(true);
}

/**
 * Starts the gateway with the devices and their resource, has every device publish until the
 * gateway dies, and stops it with `signal` once each has `minAcked` messages acknowledged and
 * `minMs` have passed; resolves with what each device had acknowledged.
 */
async function stopMidIngest(
  options: Parameters<typeof startGateway>[0],
  { minAcked, minMs = 0, signal }: { minAcked: number; minMs?: number; signal: 'SIGKILL' | 'SIGTERM' },
): Promise<{ acked: Set<number>[]; dataDir: string }> {
  const stopped = await startGateway(options);
  gateway = stopped;
  const api = createDevice2Client({ url: stopped.url, token: stopped.token() });
  await api.addResource({ alias: 'counter', format: 'number' });
  for (let n = 0; n < DEVICES; n++)
    await api.addIdentity({ identity: `crash-${n}`, auth: { type: 'token', key: token(n) } });
  const url = `mqtt://127.0.0.1:${stopped.ports.mqtt}`;
  const acked = Array.from({ length: DEVICES }, () => new Set<number>());
  const load = Promise.all(acked.map((set, n) => publishUntilKilled(url, n, set)));
  const startedAt = Date.now();
  await expect
    .poll(() => Math.min(...acked.map((s) => s.size)), { timeout: 20_000 })
    .toBeGreaterThan(minAcked);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + minMs - Date.now())));
  expect(await stopped.stop(signal)).toBe(signal === 'SIGKILL' ? null : 0);
  await load;
  return { acked, dataDir: stopped.dataDir };
}

/** Reads a stopped gateway's database. */
function inDatabase<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'fleetgate.db'), { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The values stored for each device. */
function storedValues(dataDir: string): Set<number>[] {
  return inDatabase(dataDir, (db) => {
    const tables = db.prepare('SELECT table_name FROM sample_partitions').pluck().all() as string[];
    return Array.from({ length: DEVICES }, (_, n) => {
      const stored = new Set<number>();
      for (const table of tables)
        for (const value of db
          .prepare(`SELECT value FROM ${table} WHERE identity = ?`)
          .pluck()
          .all(`crash-${n}`) as number[])
          stored.add(value);
      return stored;
    });
  });
}

/** The values of the data_in events waiting in the configured webhook's outbox, per device. */
function outboxValues(dataDir: string): Set<number>[] {
  return inDatabase(dataDir, (db) => {
    const queued = Array.from({ length: DEVICES }, () => new Set<number>());
    const bodies = db.prepare("SELECT body FROM webhook_outbox WHERE webhook_id = 'config'").pluck().all();
    for (const body of bodies as string[]) {
      const event = JSON.parse(body) as {
        type: string;
        identity: string;
        payload?: { values: { counter?: number } }[];
      };
      if (event.type !== 'data_in' || !event.identity.startsWith('crash-')) continue;
      for (const { values } of event.payload ?? [])
        queued[Number(event.identity.slice(6))]!.add(values.counter!);
    }
    return queued;
  });
}

/**
 * An event handler module that appends "<identity> <value>" for each value of a data_in, and
 * "<identity> <protocol>" for each disconnect, to a file.
 */
function recordingHandler() {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-crash-events-'));
  const file = join(dir, 'handled.txt');
  const module = join(dir, 'handler.mjs');
  writeFileSync(
    module,
    `import { appendFileSync } from 'node:fs';
     export default function (event) {
       if (event.type === 'disconnect')
         appendFileSync(${JSON.stringify(file)}, event.identity + ' ' + event.protocol + '\\n');
       if (event.type !== 'data_in') return;
       for (const { values } of event.payload)
         appendFileSync(${JSON.stringify(file)}, event.identity + ' ' + values.counter + '\\n');
     }`,
  );
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []);
  return {
    module,
    lines,
    /** The values handled for each device. */
    values(): Set<number>[] {
      const byDevice = Array.from({ length: DEVICES }, () => new Set<number>());
      for (const line of lines()) {
        const [identity, value] = line.split(' ');
        if (identity?.startsWith('crash-') && /^\d+$/.test(value ?? ''))
          byDevice[Number(identity.slice(6))]!.add(Number(value));
      }
      return byDevice;
    },
  };
}

/** The values of `expected` missing from `found`, as `crash-<n>:<value>`. */
const missingFrom = (expected: Set<number>[], found: Set<number>[]) =>
  expected.flatMap((set, n) => [...set].filter((v) => !found[n]!.has(v)).map((v) => `crash-${n}:${v}`));

describe('durability', () => {
  it('keeps every message acknowledged before the gateway is killed with SIGKILL mid-ingest', async () => {
    // Killed once every device has had a good number of messages acknowledged.
    const { acked, dataDir } = await stopMidIngest({}, { minAcked: 300, signal: 'SIGKILL' });
    // A restart recovers the database; a graceful stop then leaves it for direct inspection.
    gateway = await startGateway({ dataDir });
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(missingFrom(acked, storedValues(dataDir)), 'acknowledged but not stored').toEqual([]);
  }, 60_000);

  it('delivers the data_in of every acknowledged message, and the disconnects of the devices left connected, after SIGKILL', async () => {
    // The webhook's receiver is down, so its deliveries stay in the outbox, where they are counted.
    const handler = recordingHandler();
    const options = {
      args: ['--event-handler', handler.module],
      env: {
        FLEETGATE_WEBHOOK_URL: `http://127.0.0.1:${await closedPort()}/hook`,
        FLEETGATE_WEBHOOK_SECRET: 'crash-test-secret-0123',
      },
    };
    // The devices the crash leaves online must have been so for over the 500 ms in which presence
    // is stored.
    const { acked, dataDir } = await stopMidIngest(options, {
      minAcked: 200,
      minMs: 1_000,
      signal: 'SIGKILL',
    });

    // The restart handles what the handler had not; every acknowledged value is then in its file.
    gateway = await startGateway({ ...options, dataDir });
    await expect.poll(() => missingFrom(acked, handler.values()), { timeout: 20_000 }).toEqual([]);
    // The devices the crash left online get their disconnects.
    for (let n = 0; n < DEVICES; n++) expect(handler.lines()).toContain(`crash-${n} restart`);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(missingFrom(acked, outboxValues(dataDir)), 'acknowledged but not in the webhook outbox').toEqual(
      [],
    );
  }, 90_000);

  it('hands the data_in of every stored message to the event handler across a SIGTERM mid-ingest', async () => {
    const handler = recordingHandler();
    const options = { args: ['--event-handler', handler.module] };
    const { dataDir } = await stopMidIngest(options, { minAcked: 200, signal: 'SIGTERM' });
    // Stored, acknowledged or not: publishes still being stored when the connections closed too.
    const stored = storedValues(dataDir);
    gateway = await startGateway({ ...options, dataDir });
    await expect.poll(() => missingFrom(stored, handler.values()), { timeout: 20_000 }).toEqual([]);
  }, 60_000);
});

/** A port nothing listens on: deliveries to it fail at once and wait for their retry. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
