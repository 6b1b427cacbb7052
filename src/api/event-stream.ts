import type { EventIds, EventLog, EventSource } from '../core/event-source.js';
import type { GatewayEvent } from '../core/events.js';

/** One open event stream, as the hub sees it. */
export interface StreamClient {
  /** null: every type / every identity. */
  types: ReadonlySet<string> | null;
  identities: ReadonlySet<string> | null;
  /** Bytes written to the stream that the client has not taken yet. */
  backlog(): number;
  write(chunk: string): void;
  /** Ends the stream cleanly. */
  end(): void;
  /** Cuts the stream off, dropping what it has not taken. */
  destroy(): void;
}

export interface EventStreamOptions {
  /** A client further behind than this is disconnected. */
  maxBacklogBytes: number;
  /** Comment lines sent this often keep idle connections (and proxies) open. */
  heartbeatMs: number;
}

export const DEFAULT_STREAM_OPTIONS: EventStreamOptions = {
  maxBacklogBytes: 4 * 1024 * 1024,
  heartbeatMs: 15_000,
};

/**
 * The live event stream (Server-Sent Events) fan-out. It subscribes to events only while a client
 * is connected; the publisher only pays for an array push, and the events of one turn of the
 * event loop are serialised once and written to each client in one write. A client that does
 * not read falls behind; once its backlog exceeds the limit it is disconnected rather than
 * buffered for without bound (it may reconnect; events meanwhile are not replayed).
 */
export class EventStreamHub {
  private readonly clients = new Set<StreamClient>();
  private readonly options: EventStreamOptions;
  private pending: GatewayEvent[] = [];
  private flushScheduled = false;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly source: EventSource,
    private readonly ids: EventIds,
    private readonly log: EventLog,
    options: Partial<EventStreamOptions> = {},
  ) {
    this.options = { ...DEFAULT_STREAM_OPTIONS, ...options };
  }

  get size(): number {
    return this.clients.size;
  }

  /** Adds a client; returns the function that removes it (when its connection closes). */
  add(client: StreamClient): () => void {
    if (this.closed) {
      client.end();
      return () => {};
    }
    this.clients.add(client);
    if (!this.unsubscribe) this.unsubscribe = this.source.subscribe(this.onEvent);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
      this.heartbeat.unref();
    }
    return () => this.remove(client);
  }

  private remove(client: StreamClient): void {
    if (!this.clients.delete(client) || this.clients.size > 0) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.pending = [];
  }

  private readonly onEvent = (event: GatewayEvent): void => {
    this.pending.push(event);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  };

  private flush(): void {
    this.flushScheduled = false;
    const events = this.pending;
    this.pending = [];
    const chunks = new Map<StreamClient, string>();
    for (const event of events) {
      let text: string | undefined;
      for (const client of this.clients) {
        if (client.types && !client.types.has(event.type)) continue;
        if (client.identities && !client.identities.has(event.identity)) continue;
        text ??= `id: ${this.ids.idOf(event)}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
        chunks.set(client, (chunks.get(client) ?? '') + text);
      }
    }
    for (const [client, chunk] of chunks) this.send(client, chunk);
  }

  private send(client: StreamClient, chunk: string): void {
    // A client that has read everything gets what there is, however large one turn's events are;
    // only one that leaves more than the limit unread is behind.
    const backlog = client.backlog();
    if (backlog > 0 && backlog + Buffer.byteLength(chunk) > this.options.maxBacklogBytes) {
      this.log.warn(
        { backlogBytes: backlog, limit: this.options.maxBacklogBytes },
        'event stream client is not keeping up; disconnected',
      );
      this.remove(client);
      client.destroy();
      return;
    }
    client.write(chunk);
  }

  private beat(): void {
    for (const client of this.clients) this.send(client, ': heartbeat\n\n');
  }

  /** Ends every stream (the gateway is stopping) and refuses new ones. */
  closeAll(): void {
    this.closed = true;
    for (const client of [...this.clients]) {
      this.remove(client);
      client.end();
    }
  }
}
