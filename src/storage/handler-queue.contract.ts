import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../core/ports.js';

const queued = (identity: string, n: number) => ({ identity, body: JSON.stringify({ identity, n }) });

/** The event handler queue's part of the storage contract (see store.contract.ts). */
export function describeHandlerQueueContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name} store contract: event handler queue`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('appends events in order and reads them back after a position, a page at a time', async () => {
      const seqs = await store.handlerQueue.append([queued('a', 1), queued('b', 2), queued('a', 3)]);
      expect(seqs).toHaveLength(3);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      const page = await store.handlerQueue.after(0, 2);
      expect(page).toEqual([
        { seq: seqs[0], identity: 'a', body: queued('a', 1).body },
        { seq: seqs[1], identity: 'b', body: queued('b', 2).body },
      ]);
      expect((await store.handlerQueue.after(seqs[1]!, 10)).map((e) => e.seq)).toEqual([seqs[2]]);
      expect(await store.handlerQueue.count('a')).toBe(2);
    });

    it('forgets handled events and never gives a position twice, even once emptied', async () => {
      const first = await store.handlerQueue.append([queued('a', 1), queued('a', 2)]);
      await store.handlerQueue.remove(first);
      expect(await store.handlerQueue.after(0, 10)).toEqual([]);
      const [next] = await store.handlerQueue.append([queued('a', 3)]);
      expect(next).toBeGreaterThan(first[1]!);
      expect(await store.handlerQueue.count('a')).toBe(1);
    });

    it('clears every queued event and says how many there were', async () => {
      await store.handlerQueue.append([queued('a', 1), queued('b', 2)]);
      expect(await store.handlerQueue.clear()).toBe(2);
      expect(await store.handlerQueue.count('b')).toBe(0);
    });
  });
}
