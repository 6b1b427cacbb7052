import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Keeps the write-ahead log short without stalling the event loop on checkpoint copies and fsyncs.
 *
 * With WAL and synchronous=NORMAL a commit appends pages to the WAL without fsync, but by default,
 * every 1000 WAL pages, the committing connection checkpoints synchronously: it copies the pages
 * into the database file and fsyncs both files. An identity insert appends about six pages, so on
 * the build machine those checkpoints cost more than the inserts themselves (about 6,500
 * single-insert commits/s with them, 13,000–17,000/s without).
 *
 * Here a worker thread with its own connection does the copying with PASSIVE checkpoints, which
 * run alongside readers and writers. A PASSIVE checkpoint copies the WAL as it was when it began,
 * so while commits keep arriving the WAL never rewinds by itself. Once the WAL is long, the worker
 * repeats its checkpoint until one round had little new to copy, then asks the main thread,
 * which, between two requests, runs a RESTART checkpoint, which copies the few pages committed
 * since (a few ms, mostly two small fsyncs) and makes the next commit start the WAL again from the
 * beginning. The main connection keeps autocheckpoint at a high mark as a safety net, should the
 * worker be gone or fall behind.
 */
export interface Checkpointer {
  /**
   * Hands the rewinds to the connection that writes most (the ingest thread's), which runs them
   * between its commits: from this one they would rarely find the write lock free.
   */
  rewindWith(rewind: () => void): void;
  stop(): Promise<void>;
}

/**
 * Rewinds a long WAL with a RESTART checkpoint, never waiting: if another connection is writing
 * or reading an older snapshot, the worker asks again soon.
 */
export function rewindWal(db: Database.Database): void {
  if (!db.open || db.inTransaction) return;
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    db.pragma('wal_checkpoint(RESTART)');
  } catch {
    // SQLITE_BUSY: the worker will ask again.
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}

export interface CheckpointTuning {
  /** How often the worker checkpoints (ms). */
  intervalMs: number;
  /** WAL pages (4 KiB each) after which the log is rewound. */
  restartPages: number;
  /** The rewind waits for a checkpoint round that began with at most this many new pages. */
  restartBacklog: number;
}

/** A rewind once the WAL holds 32 MiB. */
const TUNING: CheckpointTuning = { intervalMs: 250, restartPages: 8192, restartBacklog: 256 };
/** Pages after which the main connection checkpoints by itself: 128 MiB of WAL. */
const SAFETY_AUTOCHECKPOINT = 32_768;
const DEFAULT_AUTOCHECKPOINT = 1000;

// Evaluated as a CommonJS worker, so it runs the same from src/ (tests) and dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = 0');
let timer;
function tick() {
  try {
    // Each result counts the WAL as it was when that round began, so the growth between two
    // rounds is what the earlier one left behind.
    let previous = -1;
    for (let round = 0; round < 8; round++) {
      const [status] = db.pragma('wal_checkpoint(PASSIVE)');
      if (status.log < workerData.restartPages) break;
      if (previous >= 0 && status.log - previous <= workerData.restartBacklog) {
        parentPort.postMessage('rewind');
        break;
      }
      previous = status.log;
    }
  } catch {
    // SQLITE_BUSY and the like: try again at the next tick.
  }
  timer = setTimeout(tick, workerData.intervalMs);
}
tick();
parentPort.on('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/** Starts background checkpointing for an on-disk WAL database; undefined for in-memory ones. */
export function startCheckpointer(
  db: Database.Database,
  tuning: Partial<CheckpointTuning> = {},
): Checkpointer | undefined {
  if (db.memory || db.name === '' || db.pragma('journal_mode', { simple: true }) !== 'wal') return undefined;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: db.name,
      synchronous: 'NORMAL',
      ...TUNING,
      ...tuning,
    },
    // It allocates next to nothing: a small heap, whatever sizes the gateway thread's has.
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
  });
  worker.unref();
  db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT}`);
  let rewind = () => rewindWal(db);
  worker.on('message', () => rewind());

  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.once('error', () => {
    // Without the worker, the main connection checkpoints as SQLite does by default.
    if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
  });
  return {
    rewindWith(other) {
      rewind = other;
    },
    async stop() {
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
