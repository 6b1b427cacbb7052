/**
 * The items of one turn of the event loop, written together on the next turn (devices can publish
 * tens of thousands of events a second: one transaction per turn, not per event).
 *
 * `kept()` is how an acknowledgement waits for durability: called right after an item is pushed,
 * it settles once that item's write has committed, and rejects if the write failed. Its promise is
 * made only when asked for, so a write nobody waits on costs no promise, and its failure is
 * nobody's unhandled rejection (`write` logs it).
 */
export class TurnBatches<T> {
  private buffer: T[] = [];
  private waiter:
    { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** The writes in flight, each settling as its write did. */
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  push(item: T): void {
    this.buffer.push(item);
    if (this.buffer.length === 1) setImmediate(this.flush);
  }

  /** Settles once the items pushed and not yet written are; undefined when none waits. */
  kept(): Promise<void> | undefined {
    if (this.buffer.length === 0) {
      // Already handed to a write (a flush at stop): wait for the writes in flight.
      return this.writes.size === 0 ? undefined : Promise.all(this.writes).then(() => undefined);
    }
    if (!this.waiter) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.waiter = { promise, resolve, reject };
    }
    return this.waiter.promise;
  }

  /** Writes what the current turn took, now. */
  readonly flush = (): void => {
    const items = this.buffer;
    if (items.length === 0) return;
    this.buffer = [];
    const waiter = this.waiter;
    this.waiter = undefined;
    const write = this.write(items);
    this.writes.add(write);
    write.then(
      () => waiter?.resolve(),
      (error: unknown) => waiter?.reject(error),
    );
    void write.catch(() => {}).finally(() => this.writes.delete(write));
  };

  /** Writes what is buffered and waits for every write in flight; never rejects. */
  async settled(): Promise<void> {
    this.flush();
    await Promise.allSettled(this.writes);
  }
}
