import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { rewindWal } from './checkpointer.js';
import { createIngestCommitter } from './ingest-committer.js';
import { commitReply, type IngestReply, type IngestRequest } from './ingest-thread.js';
import { decodeBatch } from './ingest-wire.js';
import { openConnection } from './open-database.js';

/**
 * The ingest thread (ingest-thread.ts): device-data transactions on a connection of its own.
 * Commits are answered on `parentPort`, in order; the requests the gateway thread waits for
 * (`sync`) are answered on the reply port, and `signal` wakes it.
 */
const { path, autocheckpoint, signal, replies } = workerData as {
  path: string;
  autocheckpoint: number;
  signal: Int32Array;
  replies: MessagePort;
};
const port = parentPort!;
const { db, committer } = open();

function open() {
  try {
    const db = openConnection(path);
    db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
    return { db, committer: createIngestCommitter(db) };
  } catch (error) {
    // A SqliteError reaches the other thread as its code alone: this one keeps the message.
    throw new Error(`the ingest thread cannot open ${path}: ${(error as Error).message}`);
  }
}

function handle(request: IngestRequest): IngestReply {
  try {
    switch (request.kind) {
      case 'commit':
        return commitReply(committer.commit(decodeBatch(request.batch)));
      case 'settle':
        committer.settle();
        return {};
      case 'partitionsDropped':
        committer.partitionsDropped();
        return {};
      case 'rewind':
        // Between two commits: the moment this connection does not hold the write lock.
        rewindWal(db);
        return {};
      case 'close':
        committer.close();
        db.close();
        return {};
    }
  } catch (error) {
    const { message, code } = error as Error & { code?: unknown };
    return { error: { message, code: typeof code === 'string' ? code : undefined } };
  }
}

port.on('message', (request: IngestRequest) => {
  const reply = handle(request);
  // Nobody waits for a rewind; the answers to commits are matched to them in order.
  if (request.kind === 'rewind') return;
  if (!request.sync) return port.postMessage(reply);
  replies.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
  if (request.kind === 'close') port.close();
});
