import { randomUUID } from 'node:crypto';
import type { GatewayEvent } from './events.js';

/**
 * A consumer that delivers at least once says when the events it has taken are stored: undefined
 * when none waits, else a promise that settles once they are (and rejects if they could not be).
 */
export type Keeper = () => Promise<void> | undefined;

/** Where event consumers subscribe; the in-process bus is one. */
export interface EventSource {
  /**
   * Returns the function that ends the subscription. A `keeper` makes the publishers' `kept()`
   * wait for this consumer too.
   */
  subscribe(handler: (event: GatewayEvent) => void, keeper?: Keeper): () => void;
}

/** The logging the event consumers need; a pino logger is one. */
export interface EventLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/**
 * One id per event, the same for every consumer that asks (webhook header, stream `id:`), so that
 * a receiver can tell a repeated delivery from a new event and logs can be correlated.
 */
export interface EventIds {
  idOf(event: GatewayEvent): string;
}

export function createEventIds(newId: () => string = randomUUID): EventIds {
  // Weak: an event is forgotten as soon as every consumer is done with it.
  const ids = new WeakMap<GatewayEvent, string>();
  return {
    idOf(event) {
      let id = ids.get(event);
      if (id === undefined) {
        id = newId();
        ids.set(event, id);
      }
      return id;
    },
  };
}
