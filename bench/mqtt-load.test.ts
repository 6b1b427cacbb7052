import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { openIdle } from './mqtt-idle.js';
import { now, runPublish } from './mqtt-load.js';
import { encodeConnect, PacketReader, publishTemplate, stampPacketId } from './mqtt-wire.js';

interface Broker {
  port: number;
  credentials: { username: string | undefined; password: string | undefined }[];
  published: { topic: string; payload: string; qos: number }[];
  close(): Promise<void>;
}

let broker: Broker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

/** An aedes broker on a free port that records credentials and publishes, refusing `refuse`. */
async function startBroker(refuse?: string): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  const credentials: Broker['credentials'] = [];
  const published: Broker['published'] = [];
  aedes.authenticate = (_client, username, password, done) => {
    credentials.push({ username, password: password?.toString() });
    if (password?.toString() !== refuse) return done(null, true);
    const error = new Error('refused') as AuthenticateError;
    error.returnCode = 5;
    done(error, false);
  };
  aedes.on('publish', (packet, client) => {
    if (client) published.push({ topic: packet.topic, payload: packet.payload.toString(), qos: packet.qos });
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    credentials,
    published,
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const device = (n: number) => ({ clientId: `dev-${n}`, username: '', password: `token-${n}` });

describe('the MQTT load generator', () => {
  it('keeps QoS 1 numeric publishes in flight and counts the acknowledged ones', async () => {
    broker = await startBroker();
    const start = now();
    const result = await runPublish({
      port: broker.port,
      devices: [device(0), device(1)],
      topic: '$resource/temp',
      inFlight: 4,
      measureFrom: start + 100,
      measureUntil: start + 400,
    });
    expect(result.failures).toEqual({});
    expect(result.connected).toBe(2);
    expect(result.acked).toBeGreaterThan(0);
    expect(result.perSecond.reduce((a, b) => a + b, 0)).toBe(result.acked);
    expect(broker.credentials).toEqual(
      expect.arrayContaining([
        { username: '', password: 'token-0' },
        { username: '', password: 'token-1' },
      ]),
    );
    expect(broker.published.length).toBeGreaterThanOrEqual(result.acked);
    for (const p of broker.published) {
      expect(p.topic).toBe('$resource/temp');
      expect(p.qos).toBe(1);
      expect(Number.isFinite(Number(p.payload))).toBe(true);
    }
  });

  it('reports a refused device by its CONNACK code', async () => {
    broker = await startBroker('token-1');
    const start = now();
    const result = await runPublish({
      port: broker.port,
      devices: [device(0), device(1)],
      topic: '$resource/temp',
      inFlight: 1,
      measureFrom: start,
      measureUntil: start + 100,
    });
    expect(result.connected).toBe(1);
    expect(result.failures).toEqual({ 'CONNACK 5': 1 });
  });

  it('opens idle connections from the given source addresses and closes them on request', async () => {
    broker = await startBroker('token-2');
    const idle = openIdle({
      port: broker.port,
      devices: [0, 1, 2, 3, 4].map(device),
      localAddresses: ['127.0.0.2', '127.0.0.3'],
      concurrency: 2,
    });
    const result = await idle.ready;
    expect(result.connected).toBe(4);
    expect(result.failures).toEqual({ 'CONNACK 5': 1 });
    expect(idle.close()).toEqual({ failures: {} });
  });
});

describe('the MQTT packet reader', () => {
  it('finds the same packets whatever the chunks the bytes arrive in', () => {
    const publish = publishTemplate('$resource/temp', 'x'.repeat(200));
    stampPacketId(publish.bytes, publish.idOffset, 513);
    const stream = Buffer.concat([
      encodeConnect({ clientId: 'a', username: '', password: 'b', keepalive: 0 }),
      publish.bytes,
      Buffer.from([0x40, 2, 2, 1]),
    ]);
    const whole = new PacketReader().push(stream);
    expect(whole.map((p) => p.type)).toEqual([1, 3, 4]);
    // A 200-byte payload needs two bytes of remaining length: split inside them too.
    for (const size of [1, 2, 3, 7]) {
      const reader = new PacketReader();
      const found = [];
      for (let at = 0; at < stream.length; at += size)
        found.push(...reader.push(stream.subarray(at, at + size)));
      expect(found).toEqual(whole);
    }
    expect(whole[1]!.body.readUInt16BE(2 + '$resource/temp'.length)).toBe(513);
  });
});
