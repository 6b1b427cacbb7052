import type { EventLog, EventSource } from '../core/event-source.js';
import type { GatewayEvent } from '../core/events.js';
import type { Device2WithAliases } from '../core/checked-device2.js';

/** The default export of an event handler module. */
export type EventHandler = (event: GatewayEvent, device2: Device2WithAliases) => unknown;

export interface EventHandlerOptions {
  /** Identities whose events are handled at the same time. */
  concurrency: number;
  /** Events waiting in all; beyond, new events are dropped (and counted). */
  maxQueued: number;
  /** A call still running after this long no longer holds up its identity's next event. */
  timeoutMs: number;
  /** How often dropped events are reported in the log at most. */
  dropReportMs: number;
  /** How long stop waits for the calls running. */
  stopWaitMs: number;
}

export const DEFAULT_HANDLER_OPTIONS: EventHandlerOptions = {
  concurrency: 16,
  maxQueued: 10_000,
  timeoutMs: 30_000,
  dropReportMs: 10_000,
  stopWaitMs: 5_000,
};

export interface EventHandlerStats {
  handled: number;
  failed: number;
  dropped: number;
}

/**
 * Calls the event handler module for every event: one call at a time per identity, in the order
 * of its events, and up to `concurrency` identities at once, each taking turns so that a busy
 * identity does not keep the others waiting. The queue is in memory and bounded: delivery is at
 * most once, and what overflows or is still queued at stop is dropped, counted and logged.
 * A handler that throws, rejects or hangs is logged and never takes the process down.
 */
export class EventHandlerRunner {
  private readonly options: EventHandlerOptions;
  private readonly lanes = new Map<string, GatewayEvent[]>();
  /** Identities with queued events and no call running, in the order they became ready. */
  private readonly ready = new Set<string>();
  private readonly running = new Set<string>();
  private readonly calls = new Set<Promise<void>>();
  private queued = 0;
  private pumpScheduled = false;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private droppedSinceReport = 0;
  private reportTimer: NodeJS.Timeout | undefined;
  readonly stats: EventHandlerStats = { handled: 0, failed: 0, dropped: 0 };
  /** Told when each call ends, whether it succeeded (querySignalSubscribers' script_async sessions). */
  onSettled: ((event: GatewayEvent, ok: boolean) => void) | undefined;

  constructor(
    private readonly handler: EventHandler,
    private readonly device2: Device2WithAliases,
    private readonly log: EventLog,
    options: Partial<EventHandlerOptions> = {},
  ) {
    this.options = { ...DEFAULT_HANDLER_OPTIONS, ...options };
  }

  start(source: EventSource): void {
    this.unsubscribe = source.subscribe(this.onEvent);
  }

  private readonly onEvent = (event: GatewayEvent): void => {
    if (this.stopped) return;
    if (this.queued >= this.options.maxQueued) return this.drop(1);
    let lane = this.lanes.get(event.identity);
    if (!lane) {
      lane = [];
      this.lanes.set(event.identity, lane);
    }
    lane.push(event);
    this.queued++;
    if (!this.running.has(event.identity)) this.ready.add(event.identity);
    // Calls start on a later turn: the handler's own code never runs inside the publisher's call.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  };

  private pump(): void {
    this.pumpScheduled = false;
    while (!this.stopped && this.running.size < this.options.concurrency && this.ready.size > 0) {
      const identity = this.ready.values().next().value as string;
      this.ready.delete(identity);
      const lane = this.lanes.get(identity)!;
      const event = lane.shift()!;
      this.queued--;
      if (lane.length === 0) this.lanes.delete(identity);
      this.running.add(identity);
      const call = this.call(event).finally(() => {
        this.calls.delete(call);
        this.running.delete(identity);
        // Back of the line: the identity's next event waits for the others' turn.
        if (this.lanes.has(identity)) this.ready.add(identity);
        this.pump();
      });
      this.calls.add(call);
    }
  }

  private async call(event: GatewayEvent): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs);
    });
    // A handler that throws before its first await rejects like one that rejects later.
    // Its own copy: the event object is shared with the other consumers, which may not have
    // serialised it yet.
    const running = new Promise<unknown>((resolve) =>
      resolve(this.handler(structuredClone(event), this.device2)),
    );
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
  waiting(identity: string): number {
    return (this.lanes.get(identity)?.length ?? 0) + (this.running.has(identity) ? 1 : 0);
  }

  private drop(count: number): void {
    this.stats.dropped += count;
    this.droppedSinceReport += count;
    if (this.reportTimer) return;
    this.reportDrops();
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      if (this.droppedSinceReport > 0) this.reportDrops();
    }, this.options.dropReportMs);
    this.reportTimer.unref();
  }

  private reportDrops(): void {
    this.log.warn(
      {
        dropped: this.droppedSinceReport,
        droppedInAll: this.stats.dropped,
        queueLimit: this.options.maxQueued,
      },
      'event handler queue full: events dropped',
    );
    this.droppedSinceReport = 0;
  }

  /** Stops taking events, drops the queued ones, and waits a while for the calls running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.queued > 0) {
      this.log.warn({ dropped: this.queued }, 'event handler: events still queued at stop are dropped');
      this.stats.dropped += this.queued;
    }
    this.lanes.clear();
    this.ready.clear();
    this.queued = 0;
    clearTimeout(this.reportTimer);
    if (this.calls.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      Promise.all(this.calls).then(() => 'done' as const),
      new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.options.stopWaitMs))),
    ]);
    clearTimeout(timer);
    if (waited === 'late') {
      this.log.warn({ running: this.calls.size }, 'event handler calls still running at stop are abandoned');
    }
  }
}
