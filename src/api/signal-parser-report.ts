import { Counter } from 'prom-client';
import type { EventLog } from '../core/event-source.js';
import type { ParserSkip, SignalParserReport } from '../core/signal-parser.js';

interface Pending {
  count: number;
  identities: Set<string>;
  detail: string;
}

/** Identities named in one summary line at most. */
const MAX_NAMED = 10;

/**
 * What the signal parser skipped: counted in `fleetgate_signal_parser_skipped_total{reason}`
 * (register `counter` in the gateway's registry) and logged. A device repeating the same mistake at
 * every publish must not flood the log: the first occurrence is logged at once, the ones of the
 * next `intervalMs` in one line per reason when it ends.
 */
export function createSignalParserReport(log: EventLog, intervalMs = 10_000) {
  const counter = new Counter({
    name: 'fleetgate_signal_parser_skipped_total',
    help: 'Values and channels the signal parser skipped, by reason',
    labelNames: ['reason'],
    registers: [],
  });
  const pending = new Map<ParserSkip, Pending>();
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    for (const [reason, p] of pending)
      log.warn(
        { reason, skipped: p.count, identities: [...p.identities], example: p.detail },
        'signal parser skipped values or channels',
      );
    pending.clear();
  }

  const report: SignalParserReport = {
    skipped(identity, reason, count, detail) {
      counter.inc({ reason }, count);
      if (!timer) {
        log.warn({ identity, reason, skipped: count }, `signal parser: ${detail}`);
        timer = setTimeout(() => {
          timer = undefined;
          flush();
        }, intervalMs);
        timer.unref();
        return;
      }
      let p = pending.get(reason);
      if (!p) pending.set(reason, (p = { count: 0, identities: new Set(), detail }));
      p.count += count;
      if (p.identities.size < MAX_NAMED) p.identities.add(identity);
    },
  };

  return {
    report,
    counter,
    /** Logs what is still pending. */
    stop(): void {
      clearTimeout(timer);
      timer = undefined;
      flush();
    },
  };
}
