/**
 * The event handler module's queue (events/event-handler-runner.ts): events wait in it, in the
 * order they happened, until the handler has been called with them.
 */

export interface QueuedEvent {
  /** Position in the queue: increasing, never given twice. */
  seq: number;
  identity: string;
  /** The event as JSON. */
  body: string;
}

export interface HandlerQueueStore {
  /** Appends events in one transaction, in the order given; resolves with their positions. */
  append(events: { identity: string; body: string }[]): Promise<number[]>;
  /** The events after position `afterSeq`, in order, at most `limit`. */
  after(afterSeq: number, limit: number): Promise<QueuedEvent[]>;
  /** Forgets handled events. */
  remove(seqs: number[]): Promise<void>;
  /** How many events of the identity wait. */
  count(identity: string): Promise<number>;
  /** Forgets every queued event; resolves with how many there were. */
  clear(): Promise<number>;
}
