import type { EventIds, EventLog, EventSource } from '../core/event-source.js';
import type { GatewayEvent } from '../core/events.js';
import { ReplayWindow } from './replay-window.js';

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
  /** The newest events kept for clients that reconnect with Last-Event-ID, in number... */
  replayEvents: number;
  /** ...and in size (characters of their lines). */
  replayChars: number;
  /** How long events are still kept for replay once the last client has gone. */
  lingerMs: number;
}

export const DEFAULT_STREAM_OPTIONS: EventStreamOptions = {
  maxBacklogBytes: 4 * 1024 * 1024,
  heartbeatMs: 15_000,
  replayEvents: 10_000,
  replayChars: 16 * 1024 * 1024,
  lingerMs: 60_000,
};

/**
 * The live event stream (Server-Sent Events) fan-out. The publisher only pays for an array push,
 * and the events of one turn of the event loop are serialised once and written to each client in
 * one write. A client that does not read falls behind; once its backlog exceeds the limit it is
 * disconnected rather than buffered for without bound.
 *
 * The newest events are kept (ReplayWindow), so that a client that reconnects with the id of the
 * last event it got (Last-Event-ID) first receives those it missed: delivery is at least once for
 * a client that comes back within the window. Events are taken, and kept, only while a client is
 * connected and for `lingerMs` after the last one left.
 */
export class EventStreamHub {
  private readonly clients = new Set<StreamClient>();
  private readonly options: EventStreamOptions;
  private pending: GatewayEvent[] = [];
  private flushScheduled = false;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private linger: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly replay: ReplayWindow;

  constructor(
    private readonly source: EventSource,
    private readonly ids: EventIds,
    private readonly log: EventLog,
    options: Partial<EventStreamOptions> = {},
  ) {
    this.options = { ...DEFAULT_STREAM_OPTIONS, ...options };
    this.replay = new ReplayWindow(this.options.replayEvents, this.options.replayChars);
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Adds a client; returns the function that removes it (when its connection closes). With
   * `lastEventId`, it first gets the events after that one, or a `missed` event when that one is
   * no longer kept.
   */
  add(client: StreamClient, lastEventId?: string): () => void {
    if (this.closed) {
      client.end();
      return () => {};
    }
    this.clients.add(client);
    clearTimeout(this.linger);
    this.linger = undefined;
    if (!this.unsubscribe) this.unsubscribe = this.source.subscribe(this.onEvent);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
      this.heartbeat.unref();
    }
    if (lastEventId !== undefined) this.resume(client, lastEventId);
    return () => this.remove(client);
  }

  /** Events still to be flushed reach the client with the next flush: they are not replayed. */
  private resume(client: StreamClient, lastEventId: string): void {
    const missed = this.replay.after(lastEventId);
    if (!missed) {
      client.write(`event: missed\ndata: ${JSON.stringify({ after: lastEventId })}\n\n`);
      return;
    }
    let chunk = '';
    for (const message of missed) if (passes(client, message)) chunk += message.text;
    if (chunk !== '') this.send(client, chunk);
  }

  private remove(client: StreamClient): void {
    if (!this.clients.delete(client) || this.clients.size > 0) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.closed) return this.forget();
    this.linger = setTimeout(() => this.forget(), this.options.lingerMs);
    this.linger.unref();
  }

  /** Nobody came back in time: stop taking events and let the kept ones go. */
  private forget(): void {
    this.linger = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.pending = [];
    this.replay.clear();
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
      const id = this.ids.idOf(event);
      const message = {
        id,
        type: event.type,
        identity: event.identity,
        text: `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`,
      };
      this.replay.add(message);
      for (const client of this.clients)
        if (passes(client, message)) chunks.set(client, (chunks.get(client) ?? '') + message.text);
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
    clearTimeout(this.linger);
    this.forget();
  }
}

function passes(client: StreamClient, message: { type: string; identity: string }): boolean {
  return (
    (!client.types || client.types.has(message.type)) &&
    (!client.identities || client.identities.has(message.identity))
  );
}
