/** One event as the stream sends it, with what its filters look at. */
export interface StreamMessage {
  id: string;
  type: string;
  identity: string;
  /** The `id:`, `event:` and `data:` lines. */
  text: string;
}

/**
 * The newest events sent on the live stream, so that a client that reconnects with
 * `Last-Event-ID` (as EventSource does by itself) gets what it missed. Bounded both in events and
 * in bytes: the oldest are forgotten first.
 */
export class ReplayWindow {
  private messages: StreamMessage[] = [];
  /** Position (counted since the window was made) of messages[head]. */
  private first = 0;
  private head = 0;
  private bytes = 0;
  private readonly positions = new Map<string, number>();

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {}

  add(message: StreamMessage): void {
    this.positions.set(message.id, this.first + this.messages.length - this.head);
    this.messages.push(message);
    this.bytes += message.text.length;
    while (this.messages.length - this.head > this.maxEvents || this.bytes > this.maxBytes)
      this.forgetOldest();
    // Compacted now and then rather than shifted on every add.
    if (this.head > 1024 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
  }

  /** The messages after the one with this id; undefined when it is not (or no longer) kept. */
  after(id: string): StreamMessage[] | undefined {
    const position = this.positions.get(id);
    if (position === undefined) return undefined;
    return this.messages.slice(this.head + position - this.first + 1);
  }

  clear(): void {
    this.first += this.messages.length - this.head;
    this.messages = [];
    this.head = 0;
    this.bytes = 0;
    this.positions.clear();
  }

  private forgetOldest(): void {
    const oldest = this.messages[this.head]!;
    this.messages[this.head] = undefined as unknown as StreamMessage;
    this.head++;
    this.first++;
    this.bytes -= oldest.text.length;
    this.positions.delete(oldest.id);
  }
}
