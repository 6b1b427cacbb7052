import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

/** The part of an aedes persistence that holds the messages queued for a client. */
export interface OutgoingQueues {
  outgoingEnqueue(sub: { clientId: string }, ...rest: unknown[]): unknown;
  outgoingEnqueueCombi(subs: { clientId: string }[], ...rest: unknown[]): unknown;
  outgoingStream(client: { id: string }): Readable;
}

const emptyQueue = () =>
  new Readable({
    objectMode: true,
    read() {
      this.push(null);
    },
  });

/**
 * After every CONNACK aedes drains the client's offline queue from `outgoingStream`, and the
 * memory persistence answers with `Readable.from` of a copy of the queue, even an empty one. Under
 * a connect storm that stream was the largest single cost of a connection: answering with a plain
 * empty stream for clients that never had anything queued took the gateway from ~400 to ~300 µs
 * of CPU and from ~11 to ~8 KB of memory per connection (BENCHMARKS.md). Gateway devices rarely have a queue: set values and signal samples go to
 * connected clients, and only a persistent session (clean = false) queues them. Clients that ever
 * had something queued keep the persistence's own stream, so what it holds is still delivered.
 */
function withCheapEmptyQueues(persistence: OutgoingQueues): OutgoingQueues {
  /** Client ids that may have messages queued: once queued, always read from the persistence. */
  const queued = new Set<string>();
  const enqueue = persistence.outgoingEnqueue.bind(persistence);
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  const stream = persistence.outgoingStream.bind(persistence);
  persistence.outgoingEnqueue = (sub, ...rest) => {
    queued.add(sub.clientId);
    return enqueue(sub, ...rest);
  };
  persistence.outgoingEnqueueCombi = (subs, ...rest) => {
    for (const sub of subs) queued.add(sub.clientId);
    return enqueueCombi(subs, ...rest);
  };
  persistence.outgoingStream = (client) => (queued.has(client.id) ? stream(client) : emptyQueue());
  return persistence;
}

/** aedes' default, in-memory persistence, with cheap empty queues. */
export function createMqttPersistence(): OutgoingQueues {
  // Required, not imported: its types declare an ES default export that the CommonJS module lacks.
  const memoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => OutgoingQueues;
  return withCheapEmptyQueues(memoryPersistence());
}
