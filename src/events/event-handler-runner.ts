import type { EventLog, EventSource } from '../core/event-source.js';
import type { GatewayEvent } from '../core/events.js';
import type { Device2WithAliases } from '../core/checked-device2.js';
import type { HandlerQueueStore } from '../core/handler-queue-ports.js';
import { TurnBatches } from './turn-batches.js';

/** The default export of an event handler module. */
export type EventHandler = (event: GatewayEvent, device2: Device2WithAliases) => unknown;

export interface EventHandlerOptions {
  /** Identities whose events are handled at the same time. */
  concurrency: number;
  /** Queued events held in memory; the others wait in the store until there is room. */
  maxInMemory: number;
  /** A call still running after this long no longer holds up its identity's next event. */
  timeoutMs: number;
  /** How long stop waits for the calls running. */
  stopWaitMs: number;
  /** How long to wait before reading the queue again after a read failed. */
  retryMs: number;
}

export const DEFAULT_HANDLER_OPTIONS: EventHandlerOptions = {
  concurrency: 16,
  maxInMemory: 10_000,
  timeoutMs: 30_000,
  stopWaitMs: 5_000,
  retryMs: 1_000,
};

export interface EventHandlerStats {
  handled: number;
  failed: number;
}

interface Queued {
  seq: number;
  identity: string;
  /** The event as stored; each call gets its own copy, parsed from it. */
  body: string;
  /** The publisher's object, when it came from this run's publisher; the handler never sees it. */
  event: GatewayEvent | undefined;
}

/**
 * Calls the event handler module for every event, at least once: one call at a time per identity,
 * in the order of its events, and up to `concurrency` identities at once, each taking turns so that
 * a busy identity does not keep the others waiting.
 *
 * Every event is first written to the queue in the store (one transaction per turn of the event
 * loop; acknowledgements wait for it through the keeper) and removed once its call has ended, so a
 * stop or a crash only delays what was not handled yet: the next start begins with it. Memory holds
 * at most `maxInMemory` queued events; beyond, they wait in the store and are read back in order as
 * the calls catch up. A handler that throws, rejects or hangs is logged, counts as handled (it is
 * not called again with that event) and never takes the process down.
 */
export class EventHandlerRunner {
  private readonly options: EventHandlerOptions;
  private readonly lanes = new Map<string, Queued[]>();
  /** Identities with queued events and no call running, in the order they became ready. */
  private readonly ready = new Set<string>();
  private readonly running = new Set<string>();
  private readonly calls = new Set<Promise<void>>();
  private inMemory = 0;
  /** The newest position held in memory (or handled) in this run. */
  private loadedUntil = 0;
  /** Every event of the queue after `loadedUntil` is in memory: newly stored ones join directly. */
  private caughtUp = false;
  /** The newest position of a newly stored event that was left in the store. */
  private leftUntil = 0;
  private loading = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  /** Stopped, and the store may be gone. */
  private closed = false;
  private readonly appends = new TurnBatches<GatewayEvent>((events) => this.append(events));
  private readonly removals = new TurnBatches<number>((seqs) => this.remove(seqs));
  readonly stats: EventHandlerStats = { handled: 0, failed: 0 };
  /** Told when each call ends, whether it succeeded (querySignalSubscribers' script_async sessions). */
  onSettled: ((event: GatewayEvent, ok: boolean) => void) | undefined;

  constructor(
    private readonly handler: EventHandler,
    private readonly device2: Device2WithAliases,
    private readonly queue: HandlerQueueStore,
    private readonly log: EventLog,
    options: Partial<EventHandlerOptions> = {},
  ) {
    this.options = { ...DEFAULT_HANDLER_OPTIONS, ...options };
  }

  /** Takes events from now on, after those a previous run left in the queue. */
  start(source: EventSource): void {
    this.unsubscribe = source.subscribe(
      (event) => this.appends.push(event),
      () => this.appends.kept(),
    );
    this.refill();
  }

  private async append(events: GatewayEvent[]): Promise<void> {
    const rows = events.map((e) => ({ identity: e.identity, body: JSON.stringify(e) }));
    let seqs: number[];
    try {
      seqs = await this.queue.append(rows);
    } catch (err) {
      this.log.error(
        { err, events: events.length },
        'could not queue events for the event handler: they are not handled, and their publishes not acknowledged',
      );
      throw err;
    }
    for (let i = 0; i < events.length; i++) {
      const seq = seqs[i]!;
      if (seq <= this.loadedUntil) continue; // read back from the queue already
      if (this.caughtUp && this.inMemory < this.options.maxInMemory) {
        this.hold({ seq, ...rows[i]!, event: events[i] });
      } else {
        this.caughtUp = false;
        this.leftUntil = seq;
      }
    }
    this.schedulePump();
    this.refill();
  }

  private hold(queued: Queued): void {
    this.loadedUntil = queued.seq;
    const identity = queued.identity;
    let lane = this.lanes.get(identity);
    if (!lane) {
      lane = [];
      this.lanes.set(identity, lane);
    }
    lane.push(queued);
    this.inMemory++;
    if (!this.running.has(identity)) this.ready.add(identity);
  }

  /** Reads queued events back into memory once half of it is free. */
  private refill(): void {
    if (this.loading || this.caughtUp || this.stopped || this.retryTimer) return;
    const room = this.options.maxInMemory - this.inMemory;
    if (room * 2 < this.options.maxInMemory) return;
    this.loading = true;
    this.queue.after(this.loadedUntil, room).then(
      (rows) => {
        this.loading = false;
        if (this.stopped) return;
        for (const row of rows) {
          if (row.seq > this.loadedUntil) this.hold({ ...row, event: undefined });
        }
        // Events stored while reading, and left out, are read next time round.
        if (rows.length < room && this.leftUntil <= this.loadedUntil) this.caughtUp = true;
        this.schedulePump();
        this.refill();
      },
      (err: unknown) => {
        this.loading = false;
        this.log.error({ err }, 'could not read the event handler queue; trying again');
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.refill();
        }, this.options.retryMs);
        this.retryTimer.unref();
      },
    );
  }

  private async remove(seqs: number[]): Promise<void> {
    try {
      await this.queue.remove(seqs);
    } catch (err) {
      this.log.error(
        { err, events: seqs.length },
        'could not remove handled events: they are handled again after a restart',
      );
    }
  }

  private schedulePump(): void {
    // Calls start on a later turn: the handler's own code never runs inside the publisher's call.
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    while (!this.stopped && this.running.size < this.options.concurrency && this.ready.size > 0) {
      const identity = this.ready.values().next().value as string;
      this.ready.delete(identity);
      const lane = this.lanes.get(identity)!;
      const queued = lane.shift()!;
      this.inMemory--;
      if (lane.length === 0) this.lanes.delete(identity);
      this.running.add(identity);
      const call = this.call(queued).finally(() => {
        this.calls.delete(call);
        this.running.delete(identity);
        // A call abandoned at stop is made again after the next start.
        if (!this.closed) this.removals.push(queued.seq);
        // Back of the line: the identity's next event waits for the others' turn.
        if (this.lanes.has(identity)) this.ready.add(identity);
        this.pump();
        this.refill();
      });
      this.calls.add(call);
    }
  }

  private async call(queued: Queued): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
    });
    // A handler that throws before its first await rejects like one that rejects later. Its own
    // copy: the handler may change it, and the publisher's object is the other consumers' too.
    const running = new Promise<unknown>((resolve) =>
      resolve(this.handler(JSON.parse(queued.body) as GatewayEvent, this.device2)),
    );
    const event = queued.event ?? (JSON.parse(queued.body) as GatewayEvent);
    try {
      const outcome = await Promise.race([running, timedOut]);
      if (outcome === 'timeout') {
        this.stats.failed++;
        this.onSettled?.(event, false);
        this.log.error(
          { event: event.type, identity: event.identity, timeoutMs: this.options.timeoutMs },
          'event handler did not finish in time; the next event of this identity goes ahead',
        );
        // Whatever it ends with later must not be an unhandled rejection.
        running.catch((err: unknown) =>
          this.log.error({ err, event: event.type, identity: event.identity }, 'event handler failed'),
        );
      } else {
        this.stats.handled++;
        this.onSettled?.(event, true);
      }
    } catch (err) {
      this.stats.failed++;
      this.onSettled?.(event, false);
      this.log.error({ err, event: event.type, identity: event.identity }, 'event handler failed');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Events of the identity queued or being handled. */
  async waiting(identity: string): Promise<number> {
    if (!this.caughtUp) return this.queue.count(identity);
    return (this.lanes.get(identity)?.length ?? 0) + (this.running.has(identity) ? 1 : 0);
  }

  /**
   * Stops taking events and stores the ones already taken; waits a while for the calls running.
   * Whatever was not handled stays queued for the next start.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.retryTimer);
    await this.appends.settled();
    if (this.inMemory > 0 || !this.caughtUp)
      this.log.info(
        { inMemory: this.inMemory },
        'event handler: queued events are handled after the next start',
      );
    this.lanes.clear();
    this.ready.clear();
    this.inMemory = 0;
    if (this.calls.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        Promise.all(this.calls).then(() => 'done' as const),
        new Promise<'late'>(
          (resolve) => (timer = setTimeout(() => resolve('late'), this.options.stopWaitMs)),
        ),
      ]);
      clearTimeout(timer);
      if (waited === 'late') {
        this.log.warn(
          { running: this.calls.size },
          'event handler calls still running at stop are abandoned; their events are handled again after the next start',
        );
      }
    }
    this.closed = true;
    await this.removals.settled();
  }
}
