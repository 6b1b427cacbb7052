import type { ResourceValue } from './schemas/common.js';

/** The reference's event object (CONTRACT §4). */
export interface GatewayEvent {
  type: 'connect' | 'disconnect' | 'data_in' | 'content_in' | 'deleted' | 'provisioned' | 'expired';
  identity: string;
  ip: string | null;
  protocol: string;
  /** µs since the epoch. */
  timestamp: number;
  connection_id: string | null;
  payload?: { timestamp: number; values: Record<string, ResourceValue> }[];
  updated_resources?: string[];
}

/** Where the core hands events over for delivery; the bus decides who receives them. */
export interface EventPublisher {
  publish(event: GatewayEvent): void;
  /**
   * Whether anyone receives events now. Device publishes are the hot path: when nobody listens,
   * their event objects are not built at all. Absent means yes.
   */
  listened?(): boolean;
  /**
   * Settles once every event published so far is stored by each consumer that delivers at least
   * once (the webhook outbox, the event handler's queue); undefined when none has any waiting.
   * Whoever acknowledges what raised an event (a PUBACK, an HTTP answer) awaits it first, so that an
   * acknowledged publish has its events delivered even if the process dies just after. It rejects
   * when they could not be stored: the acknowledgement must not go out. Absent means nothing waits.
   */
  kept?(): Promise<void> | undefined;
}
