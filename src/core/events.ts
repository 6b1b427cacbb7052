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
}
