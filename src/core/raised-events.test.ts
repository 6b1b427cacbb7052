import { describe, expect, it } from 'vitest';
import type { EventPublisher, GatewayEvent } from './events.js';
import { raiseStoredEvents } from './raised-events.js';

const deleted: GatewayEvent = {
  type: 'deleted',
  identity: 'a',
  ip: null,
  protocol: 'api',
  timestamp: 1,
  connection_id: null,
};

function setup(keeper: () => Promise<void> | undefined, forget: () => Promise<void>) {
  const received: GatewayEvent[] = [];
  const bus: EventPublisher = { publish: (event) => void received.push(event), kept: keeper };
  const forgotten: GatewayEvent[][] = [];
  const store = {
    forgetEvents: (events: GatewayEvent[]) => {
      forgotten.push(events);
      return forget();
    },
  };
  return { bus, received, forgotten, store };
}

describe('raising events stored with their change', () => {
  it('forgets them once the consumers keep them', async () => {
    const { bus, received, forgotten, store } = setup(
      () => Promise.resolve(),
      () => Promise.resolve(),
    );
    await raiseStoredEvents(bus, store, [deleted]);
    expect(received).toEqual([deleted]);
    expect(forgotten).toEqual([[deleted]]);
  });

  it('keeps them stored, and fails, when the consumers could not keep them', async () => {
    const { bus, forgotten, store } = setup(
      () => Promise.reject(new Error('disk full')),
      () => Promise.resolve(),
    );
    await expect(raiseStoredEvents(bus, store, [deleted])).rejects.toThrow('disk full');
    expect(forgotten).toEqual([]);
  });

  it('does not fail the change when only forgetting them fails (the next start raises them again)', async () => {
    const { bus, store } = setup(
      () => Promise.resolve(),
      () => Promise.reject(new Error('busy')),
    );
    await expect(raiseStoredEvents(bus, store, [deleted])).resolves.toBeUndefined();
  });
});
