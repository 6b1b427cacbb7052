import v8 from 'node:v8';
import { isMainThread, parentPort, SHARE_ENV, Worker } from 'node:worker_threads';

/**
 * The young generation of the gateway's heap, in MiB (V8 splits it in two semi-spaces and a
 * space for large objects: 192 MiB gives 64 MiB semi-spaces, four times Node's default). Device traffic
 * allocates many short-lived objects per message, and messages wait for their group commit, so
 * with the default size each minor collection copies every message in flight, several times a
 * second. BENCHMARKS.md has the measurements.
 */
export const YOUNG_GENERATION_MB = 192;

type StopSignal = 'SIGTERM' | 'SIGINT';

/**
 * V8 sizes a thread's heap when the thread starts: `v8.setFlagsFromString` at run time does not
 * change it, and `node --max-semi-space-size` is not something `npx fleetgate serve` can pass. A
 * worker thread's `resourceLimits` can, so `serve` runs the gateway on one, in this same process
 * (one pid, so supervisors and signals see one gateway, and a SIGKILL kills it whole). This thread
 * forwards SIGTERM and SIGINT and exits with the gateway's exit code.
 */
export function serveOnGatewayThread(entry: URL, argv: string[]): void {
  // The semi-spaces start at their full size: grown on demand, they grew while devices connected,
  // and their 128 MiB showed as memory per connection (12 to 18 KB from one run to the next). The
  // flag is read when a thread's heap is made, so it is set for this one thread and then reset.
  v8.setFlagsFromString(`--min-semi-space-size=${YOUNG_GENERATION_MB / 3}`);
  const worker = new Worker(entry, {
    argv,
    env: SHARE_ENV,
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  worker.once('online', () => v8.setFlagsFromString('--min-semi-space-size=0'));
  const forward = (signal: StopSignal) => worker.postMessage(signal);
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  worker.on('error', (error) => {
    process.stderr.write(`fleetgate: ${error.stack ?? error.message}\n`);
  });
  worker.on('exit', (code) => process.exit(code));
}

/** Whether this thread should start the gateway thread rather than serve itself. */
export function shouldStartGatewayThread(): boolean {
  // An explicit V8 setting of the operator's wins, and so does running in a thread already.
  return isMainThread && !process.execArgv.some((arg) => arg.startsWith('--max-semi-space-size'));
}

/** Calls `stop` on SIGTERM or SIGINT, whether they reach this thread or are forwarded to it. */
export function onStopSignal(stop: (signal: StopSignal) => void): void {
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  parentPort?.on('message', (message: unknown) => {
    if (message === 'SIGTERM' || message === 'SIGINT') stop(message);
  });
}
