import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createMqttPersistence } from './offline-queues.js';

const packet = (brokerCounter: number) => ({
  cmd: 'publish',
  topic: '$resource/temp/1',
  payload: Buffer.from('21.5'),
  qos: 1,
  retain: false,
  brokerId: 'gateway',
  brokerCounter,
});

const read = async (stream: Readable) => (await stream.toArray()) as { brokerCounter: number }[];

describe('the offline queues of MQTT clients', () => {
  it('answer a client that never had anything queued with an empty stream', async () => {
    const persistence = createMqttPersistence();
    expect(await read(persistence.outgoingStream({ id: 'dev-1' }))).toEqual([]);
  });

  it('still hold and give back what was queued, for that client only', async () => {
    const persistence = createMqttPersistence();
    await persistence.outgoingEnqueue({ clientId: 'dev-1' }, packet(1));
    await persistence.outgoingEnqueueCombi([{ clientId: 'dev-1' }, { clientId: 'dev-2' }], packet(2));
    const counters = async (id: string) =>
      (await read(persistence.outgoingStream({ id }))).map((queued) => queued.brokerCounter);
    expect(await counters('dev-1')).toEqual([1, 2]);
    expect(await counters('dev-2')).toEqual([2]);
    expect(await counters('dev-3')).toEqual([]);
  });
});
