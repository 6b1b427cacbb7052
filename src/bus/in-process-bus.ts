import type { EventPublisher, GatewayEvent } from '../core/events.js';
import type { Keeper } from '../core/event-source.js';

export type EventHandler = (event: GatewayEvent) => void;

/** Delivers each event to every subscriber in this process, in publish order. */
export class InProcessBus implements EventPublisher {
  private readonly handlers = new Set<EventHandler>();
  private readonly keepers = new Set<Keeper>();

  constructor(private readonly onHandlerError: (error: unknown, event: GatewayEvent) => void) {}

  subscribe(handler: EventHandler, keeper?: Keeper): () => void {
    this.handlers.add(handler);
    if (keeper) this.keepers.add(keeper);
    return () => {
      this.handlers.delete(handler);
      if (keeper) this.keepers.delete(keeper);
    };
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

  kept(): Promise<void> | undefined {
    let first: Promise<void> | undefined;
    let all: Promise<void>[] | undefined;
    for (const keeper of this.keepers) {
      const kept = keeper();
      if (!kept) continue;
      if (!first) first = kept;
      else (all ??= [first]).push(kept);
    }
    return all ? Promise.all(all).then(() => undefined) : first;
  }
}
