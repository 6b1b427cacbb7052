import { InProcessBus } from '../bus/in-process-bus.js';
import type { EventLog, Keeper } from '../core/event-source.js';
import type { GatewayEvent } from '../core/events.js';
import type { WebhookRequest, WebhookResult, WebhookTransport } from '../core/webhook-ports.js';

/* Shared by the tests of src/events (test-*.ts files are left out of the build). */

/** An event source the test publishes to by hand, counting its subscribers. */
export class ManualSource extends InProcessBus {
  private count = 0;
  constructor() {
    super((error) => {
      throw error;
    });
  }
  get subscribers(): number {
    return this.count;
  }
  override subscribe(handler: (event: GatewayEvent) => void, keeper?: Keeper): () => void {
    const unsubscribe = super.subscribe(handler, keeper);
    this.count++;
    return () => {
      unsubscribe();
      this.count--;
    };
  }
}

export function event(identity: string, n: number, type: GatewayEvent['type'] = 'data_in'): GatewayEvent {
  return {
    type,
    identity,
    ip: null,
    protocol: 'test',
    timestamp: 1_700_000_000_000_000 + n,
    connection_id: null,
    ...(type === 'data_in' && {
      payload: [{ timestamp: 1_700_000_000_000_000 + n, values: { n } }],
      updated_resources: ['n'],
    }),
  };
}

/** A log that keeps its entries for inspection. */
export class MemoryLog implements EventLog {
  readonly entries: { level: string; details: object; message: string }[] = [];
  info(details: object, message: string): void {
    this.entries.push({ level: 'info', details, message });
  }
  warn(details: object, message: string): void {
    this.entries.push({ level: 'warn', details, message });
  }
  error(details: object, message: string): void {
    this.entries.push({ level: 'error', details, message });
  }
}

export interface RecordedAttempt {
  request: WebhookRequest;
  /** The event the body carries. */
  event: GatewayEvent;
  result?: WebhookResult;
}

/**
 * A transport whose answers the test decides: `answer` gets each attempt and returns its result,
 * or 'hang' to leave it unanswered until it is aborted.
 */
export class ScriptedTransport implements WebhookTransport {
  readonly attempts: RecordedAttempt[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(public answer: (attempt: RecordedAttempt) => WebhookResult | 'hang' = () => ({ ok: true })) {}

  /** The events answered with success, in the order they were. */
  delivered(url?: string): GatewayEvent[] {
    return this.attempts
      .filter((a) => a.result?.ok && (url === undefined || a.request.url === url))
      .map((a) => a.event);
  }

  async post(request: WebhookRequest): Promise<WebhookResult> {
    const attempt: RecordedAttempt = { request, event: JSON.parse(request.body) as GatewayEvent };
    this.attempts.push(attempt);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Answer on a later turn, as a network would.
      await new Promise((resolve) => setImmediate(resolve));
      const answer = this.answer(attempt);
      if (answer === 'hang') {
        // Aborted already (a stop during the turn above): no abort event will come.
        if (!request.signal.aborted)
          await new Promise((resolve) => request.signal.addEventListener('abort', resolve, { once: true }));
        attempt.result = { ok: false, error: 'aborted' };
      } else {
        attempt.result = answer;
      }
      return attempt.result;
    } finally {
      this.inFlight--;
    }
  }
}
