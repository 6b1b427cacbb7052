import type { EventPublisher, GatewayEvent } from '../core/events.js';

export type EventHandler = (event: GatewayEvent) => void;

/** Delivers each event to every subscriber in this process, in publish order. */
export class InProcessBus implements EventPublisher {
  private readonly handlers = new Set<EventHandler>();

  constructor(private readonly onHandlerError: (error: unknown, event: GatewayEvent) => void) {}

  subscribe(handler: EventHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  listened(): boolean {
    return this.handlers.size > 0;
  }

  publish(event: GatewayEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (error) {
        // One failing subscriber must not keep the event from the others or fail the publisher.
        this.onHandlerError(error, event);
      }
    }
  }
}
