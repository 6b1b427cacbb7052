/**
 * The items of one turn of the event loop, written together on the next turn (devices can publish
 * tens of thousands of events a second: one transaction per turn, not per event).
 *
 * `kept()` is how an acknowledgement waits for durability: it resolves once the current turn's
 * write has committed, and rejects if it failed. It is made only when asked for, so a write nobody
 * waits on costs no promise and its failure is nobody's unhandled rejection (`write` logs it).
 */
export class TurnBatches<T> {
  private buffer: T[] = [];
  private waiter:
    { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  push(item: T): void {
    this.buffer.push(item);
    if (this.buffer.length === 1) setImmediate(this.flush);
  }

  /** Settles once every item pushed so far is written; undefined when none waits. */
  kept(): Promise<void> | undefined {
    if (this.buffer.length === 0) return this.writes.size === 0 ? undefined : this.settled();
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
    const write = this.write(items).then(
      () => waiter?.resolve(),
      (error: unknown) => waiter?.reject(error),
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  };

  /** Writes what is buffered and waits for every write in flight; never rejects. */
  async settled(): Promise<void> {
    this.flush();
    await Promise.all(this.writes);
  }
}
