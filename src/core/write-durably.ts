import type { DeviceWrite, IngestStore, WriteResult } from './device-ports.js';

/** `IngestStore.write` as a promise, for callers off the device hot path. */
export function writeDurably(ingest: IngestStore, write: DeviceWrite): Promise<WriteResult> {
  return new Promise((resolve, reject) =>
    ingest.write(write, (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome))),
  );
}
