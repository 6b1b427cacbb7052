import { describe, expect, it } from 'vitest';
import { TurnBatches } from './turn-batches.js';

/** A write the test settles by hand, recording what each call got. */
function manualWrites() {
  const calls: { items: number[]; resolve: () => void; reject: (error: Error) => void }[] = [];
  const write = (items: number[]) =>
    new Promise<void>((resolve, reject) => calls.push({ items, resolve, reject }));
  return { calls, write };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('turn batches', () => {
  it('write the items of one turn in one call, and say when they are written', async () => {
    const { calls, write } = manualWrites();
    const batches = new TurnBatches(write);
    expect(batches.kept()).toBeUndefined();
    batches.push(1);
    batches.push(2);
    let kept = false;
    void batches.kept()!.then(() => (kept = true));
    await nextTurn();
    expect(calls.map((c) => c.items)).toEqual([[1, 2]]);
    expect(kept).toBe(false);
    calls[0]!.resolve();
    await expect.poll(() => kept).toBe(true);
    expect(batches.kept()).toBeUndefined();
  });

  it('reject the wait of items whose write failed, also when it was already under way', async () => {
    const { calls, write } = manualWrites();
    const batches = new TurnBatches(write);
    batches.push(1);
    const waiting = batches.kept()!;
    batches.flush(); // as at stop: the write starts before anyone asks again
    const asked = batches.kept()!;
    calls[0]!.reject(new Error('disk full'));
    await expect(waiting).rejects.toThrow('disk full');
    await expect(asked).rejects.toThrow('disk full');
    await batches.settled(); // never rejects
  });
});
