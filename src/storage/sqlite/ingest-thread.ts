import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { rewindWal } from './checkpointer.js';
import { createIngestCommitter, type CommitWrite } from './ingest-committer.js';
import type { WriteResult } from '../../core/device-ports.js';
import { BatchBuilder, encodeBatch, type WireBatch } from './ingest-wire.js';

export type IngestRequest =
  | { kind: 'commit'; batch: WireBatch; sync?: true }
  | { kind: 'rewind'; sync?: undefined }
  | { kind: 'settle' | 'partitionsDropped' | 'close'; sync: true };

export interface IngestReply {
  /** Per write: 0 its identity does not exist, 1 written, 2 written with `kept[k]`. */
  outcomes?: Uint8Array;
  kept?: Record<number, string[]>;
  error?: { message: string; code?: string };
}

/** Per write, what it did; or why the batch was rolled back. */
export type CommitOutcome = WriteResult[] | Error;

/** The reply to a commit, as it crosses to the gateway thread. */
export function commitReply(outcomes: WriteResult[]): IngestReply {
  const codes = new Uint8Array(outcomes.length);
  let kept: Record<number, string[]> | undefined;
  outcomes.forEach((outcome, k) => {
    codes[k] = outcome === false ? 0 : outcome === true ? 1 : 2;
    if (typeof outcome === 'object') (kept ??= {})[k] = outcome.kept;
  });
  return kept ? { outcomes: codes, kept } : { outcomes: codes };
}

/** Where the ingest store's transactions run: on the gateway thread or on the ingest thread. */
export interface CommitPath {
  /**
   * Told of each write as it is queued, in order. The store sends them in batches of everything
   * queued, at most `maxBatch` (startIngestThread): the ingest thread's path encodes them meanwhile.
   */
  queued(write: CommitWrite): void;
  /** Commits `writes` in one transaction; `done` is called once it is durable or rolled back. */
  commit(writes: CommitWrite[], done: (outcome: CommitOutcome) => void): void;
  /** Commits `writes` before returning (closing). */
  commitNow(writes: CommitWrite[]): CommitOutcome;
  settle(): void;
  partitionsDropped(): void;
  /** Rewinds the WAL from the connection that commits device data, between two commits. */
  rewind(): void;
  /** Moves what is staged and lets go of the connection; commits in flight are answered first. */
  close(): void;
}

/** How long the gateway thread waits for an answer it cannot go on without. */
const SYNC_TIMEOUT_MS = 30_000;

/** The transactions on the gateway thread's own connection. */
export function localCommits(db: Database.Database): CommitPath {
  const committer = createIngestCommitter(db);
  const commitNow = (writes: CommitWrite[]): CommitOutcome => {
    try {
      return committer.commit(writes);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };
  return {
    queued() {},
    commit: (writes, done) => done(commitNow(writes)),
    commitNow,
    settle: () => committer.settle(),
    partitionsDropped: () => committer.partitionsDropped(),
    rewind: () => rewindWal(db),
    close: () => committer.close(),
  };
}

const toError = ({ message, code }: { message: string; code?: string }) =>
  Object.assign(new Error(message), code === undefined ? {} : { code });

function outcomeOf(reply: IngestReply): CommitOutcome {
  if (reply.error) return toError(reply.error);
  const codes = reply.outcomes ?? new Uint8Array(0);
  const outcomes = new Array<WriteResult>(codes.length);
  for (let k = 0; k < codes.length; k++)
    outcomes[k] = codes[k] === 2 ? { kept: reply.kept?.[k] ?? [] } : codes[k] === 1;
  return outcomes;
}

/**
 * The ingest thread: a worker with a connection of its own that runs the ingest store's
 * transactions, so that the gateway thread spends its time on protocols while SQLite builds
 * B-trees and appends to the WAL. While one batch commits there, the next gathers here: group
 * commit as before, with the two halves of a message's cost on two cores.
 *
 * Other writers (the gateway thread's registry, presence and metrics writes) take turns with it
 * through SQLite's write lock; all of them begin IMMEDIATE, so none fails on a snapshot the other
 * moved on. Reads that need staged samples moved (`settle`) and the store's close wait for the
 * thread's answer (`Atomics.wait`), never inside a transaction of their own, which the thread
 * would wait for in turn. If the thread fails, `onFailure` is told: what it had in flight is
 * rejected (nothing of it was acknowledged), and the store commits on its own thread from then on.
 */
export function startIngestThread(
  db: Database.Database,
  onFailure: (error: Error) => void,
  maxBatch: number,
): CommitPath {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1: replies, port2 } = new MessageChannel();
  const entry = import.meta.url.endsWith('.ts')
    ? { url: new URL('./ingest-worker.ts', import.meta.url), fromSource: true }
    : { url: new URL('./ingest-worker.js', import.meta.url), fromSource: false };
  const worker = new Worker(entry.fromSource ? TS_BOOTSTRAP : entry.url, {
    eval: entry.fromSource,
    workerData: {
      path: db.name,
      // The checkpointer (checkpointer.ts) has the main connection leave checkpoints to it.
      autocheckpoint: db.pragma('wal_autocheckpoint', { simple: true }) as number,
      signal,
      replies: port2,
      entry: entry.url.href,
      tsx: entry.fromSource ? tsxApi() : '',
    },
    transferList: [port2],
    // A young generation of Node's default size: a batch's objects die young or not at all, and
    // a larger one made each scavenge copy more (64 MiB: 18 ms each, 16 MiB: 2 ms, 3× as often).
  });
  /** The batches being encoded as their writes are queued, oldest first. */
  const building: BatchBuilder[] = [];
  /**
   * The size of the last batch sent, in numbers: the next one starts with room for as many. Not
   * more: its buffer is allocated (and zeroed) for each batch, and HTTP batches are small and many.
   */
  let capacity = 256;
  const inFlight: ((outcome: CommitOutcome) => void)[] = [];
  let failed: Error | undefined;

  // Referenced only while a commit is under way: an idle store does not keep the process alive.
  worker.unref();
  worker.on('message', (reply: IngestReply) => {
    const done = inFlight.shift();
    if (inFlight.length === 0) worker.unref();
    done?.(outcomeOf(reply));
  });
  const fail = (reason: unknown) => {
    if (failed) return;
    const error =
      reason instanceof Error ? reason : new Error(`the ingest thread failed: ${JSON.stringify(reason)}`);
    failed = error;
    // The store picks another path first: the rejections below let it send what is queued.
    onFailure(error);
    for (const done of inFlight.splice(0)) done(error);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the ingest thread stopped (exit code ${code})`)));

  function call(request: IngestRequest): IngestReply {
    if (failed) throw failed;
    Atomics.store(signal, 0, 0);
    worker.postMessage(request, request.kind === 'commit' ? [request.batch.numbers.buffer] : []);
    if (Atomics.wait(signal, 0, 0, SYNC_TIMEOUT_MS) === 'timed-out') {
      // Its answer, should it come, would be taken for the next request's: it is let go.
      const error = new Error(`the ingest thread did not answer within ${SYNC_TIMEOUT_MS / 1000} s`);
      void worker.terminate();
      fail(error);
      throw error;
    }
    const reply = receiveMessageOnPort(replies)?.message as IngestReply | undefined;
    if (!reply) throw new Error('the ingest thread answered nothing');
    if (reply.error) throw toError(reply.error);
    return reply;
  }

  /** `writes` encoded: as they were queued, or now if that batch is not theirs (a write failed to encode). */
  function batchOf(writes: CommitWrite[]): WireBatch {
    const built = building.shift();
    if (built && !built.broken && built.first === writes[0] && built.count === writes.length) {
      const batch = built.finish();
      capacity = Math.max(256, batch.numbers.length);
      return batch;
    }
    // The batches after it were cut at other writes.
    building.length = 0;
    return encodeBatch(writes);
  }

  return {
    queued(write) {
      // Closed or failed: commit answers with the error, and keeps no batch.
      if (failed) return;
      let builder = building[building.length - 1];
      if (!builder || builder.count >= maxBatch) building.push((builder = new BatchBuilder(capacity)));
      builder.add(write);
    },
    commit(writes, done) {
      if (failed) return done(failed);
      const batch = batchOf(writes);
      if (inFlight.push(done) === 1) worker.ref();
      worker.postMessage({ kind: 'commit', batch } satisfies IngestRequest, [batch.numbers.buffer]);
    },
    commitNow(writes) {
      try {
        return outcomeOf(call({ kind: 'commit', batch: batchOf(writes), sync: true }));
      } catch (error) {
        return error as Error;
      }
    },
    rewind() {
      if (!failed) worker.postMessage({ kind: 'rewind' } satisfies IngestRequest);
    },
    settle: () => void call({ kind: 'settle', sync: true }),
    partitionsDropped: () => void call({ kind: 'partitionsDropped', sync: true }),
    close() {
      if (failed) return;
      call({ kind: 'close', sync: true });
      failed = new Error('the ingest store is closed');
    },
  };
}

/** tsx's ESM entry (its CommonJS one registers hooks by a path that does not resolve). */
const tsxApi = () =>
  pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;

/** From source (tests run the TypeScript), the worker compiles its modules as they load. */
const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsx).then((api) => { api.register(); return import(workerData.entry); });
`;
