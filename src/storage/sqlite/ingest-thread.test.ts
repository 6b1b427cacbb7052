import { renameSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteIngestStore } from './ingest-store.js';
import { openDatabase } from './open-database.js';
import { NOV_2026, openIngestStore, strictIngestThread, temperatureSamples } from './test-ingest.js';
import { writeDurably } from '../../core/write-durably.js';

const write = (identity: string, timestamp: number, value: number) => ({
  identity,
  samples: temperatureSamples([[timestamp, value]]),
  state: [{ resource: 'temp', set: value, reported: value, timestamp }],
  seen: { at: timestamp, ip: '10.0.0.1' },
});

const devices = Array.from({ length: 20 }, (_, n) => `dev-${n}`);
const burst = (store: Awaited<ReturnType<typeof openIngestStore>>['store'], from: number, count: number) =>
  Array.from({ length: count }, (_, i) =>
    writeDurably(store.ingest, write(devices[i % devices.length]!, NOV_2026 + from + i, from + i)),
  );

/** How many samples are stored, and how many hold the value `burst` gave their time. */
function storedAsBurst(read: Awaited<ReturnType<typeof openIngestStore>>['read']) {
  const [row] = read<{ stored: number; right: number }>(
    'SELECT count(*) AS stored, sum(value = timestamp - ?) AS right FROM samples_r12_202611',
    NOV_2026,
  );
  return row;
}

/**
 * The ingest store alone, with its thread, over the test's own connection to a file holding the
 * devices; `pragma` is set on that connection first.
 */
async function threadedIngest(pragma: string) {
  const { store, file } = await openIngestStore(devices);
  await store.close();
  const db = openDatabase(file);
  db.pragma(pragma);
  const ingest = createSqliteIngestStore(db, undefined, {
    thread: true,
    onThreadFailure: (error) => strictIngestThread.onIngestThreadFailure(error),
  });
  return { db, ingest, file };
}

describe('the ingest thread', () => {
  it('commits every write of a burst larger than one batch, each sample with its own value', async () => {
    const { store, read } = await openIngestStore(devices);
    // Above the 8192 writes of one batch: the writes encoded as they were queued split there too.
    const results = await Promise.all(burst(store, 0, 10_000));
    expect(results.every((result) => result === true)).toBe(true);
    await store.close();
    expect(storedAsBurst(read)).toEqual({ stored: 10_000, right: 10_000 });
  });

  it('refuses a write that cannot be encoded, and commits the writes around it as they were', async () => {
    const { store, read } = await openIngestStore(devices);
    const before = burst(store, 0, 100);
    const malformed = { ...write('dev-0', NOV_2026 + 100, 100), state: [null] };
    await expect(
      writeDurably(store.ingest, malformed as unknown as ReturnType<typeof write>),
    ).rejects.toThrow();
    const after = burst(store, 101, 100);
    expect(await Promise.all([...before, ...after])).toEqual(Array.from({ length: 200 }, () => true));
    await store.close();
    expect(storedAsBurst(read)).toEqual({ stored: 200, right: 200 });
  });

  it('answers writes still queued or in flight when the store closes, each stored', async () => {
    const { store, read } = await openIngestStore(devices);
    const inFlight = burst(store, 0, 500);
    // A turn later the first burst is on the thread; the second one is only queued.
    await new Promise((resolve) => setImmediate(resolve));
    const queued = burst(store, 500, 500);
    await store.close();
    expect(await Promise.all([...inFlight, ...queued])).toEqual(Array.from({ length: 1000 }, () => true));
    expect(read('SELECT count(*) AS n, sum(value) AS total FROM samples_r12_202611')).toEqual([
      { n: 1000, total: (999 * 1000) / 2 },
    ]);
  });

  it('lets read-then-write transactions of the calling thread run while device data streams in', async () => {
    // Many identities, so that each bulk update reads for a while before its first write.
    const fleet = [...devices, ...Array.from({ length: 1500 }, (_, n) => `idle-${n}`)];
    const { store, read } = await openIngestStore(fleet);
    let streaming = true;
    let rounds = 0;
    const stream = (async () => {
      for (; streaming; rounds++) await Promise.all(burst(store, rounds * 200, 200));
    })();
    // Each bulk update selects the identities, then writes their tags: had it begun with a read,
    // a commit of the ingest thread in between would make its write fail (SQLITE_BUSY_SNAPSHOT).
    for (let k = 0; k < 30; k++) {
      const change = { addTags: [{ name: 'round', value: String(k) }], removeTags: [], state: [] };
      expect(await store.identities.updateMatching({ now: NOV_2026 }, change)).toBe(fleet.length);
      // Time for the thread's answers and the stream's next writes.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    streaming = false;
    await stream;
    await store.close();
    expect(rounds).toBeGreaterThan(0);
    expect(read('SELECT count(*) AS n FROM samples_r12_202611')).toEqual([{ n: rounds * 200 }]);
  });

  it('writes into a partition dropped behind its back by creating it anew', async () => {
    const { store, file, read } = await openIngestStore(['a']);
    expect(await writeDurably(store.ingest, write('a', NOV_2026, 1))).toBe(true);
    // A lone sample is staged: reading the partitions has the thread move it, creating its partition.
    expect(await store.series.partitions()).toHaveLength(1);
    // Another connection drops the partition the thread has just written to, without telling it.
    const other = new Database(file);
    other.exec('DROP TABLE samples_r12_202611; DROP TABLE rollups_r12_202611; DELETE FROM sample_partitions');
    other.close();
    expect(await writeDurably(store.ingest, write('a', NOV_2026 + 1, 2))).toBe(true);
    await store.close();
    expect(read('SELECT value FROM samples_r12_202611')).toEqual([{ value: 2 }]);
  });

  it('rewinds the WAL between its commits when asked, so that the next commit reuses the file', async () => {
    // No checkpoints of SQLite's own (the checkpointer's safety mark), so only a rewind resets the WAL.
    const { db, ingest, file } = await threadedIngest('wal_autocheckpoint = 100000');
    const walBytes = () => statSync(`${file}-wal`).size;
    const batch = async (from: number) => {
      const writes = Array.from({ length: 400 }, (_, i) =>
        writeDurably(ingest, write(devices[i % devices.length]!, NOV_2026 + from + i, i)),
      );
      expect(await Promise.all(writes)).not.toContain(false);
    };
    for (let k = 0; k < 5; k++) await batch(k * 400);
    const grown = walBytes();
    await batch(2000);
    // Without a rewind each commit appends to the WAL.
    expect(walBytes()).toBeGreaterThan(grown);
    const long = walBytes();
    ingest.rewind();
    await batch(2400);
    expect(walBytes()).toBe(long);
    await ingest.close();
    db.close();
  });

  it('runs the calling thread’s own writes between two commits, when the write lock is free', async () => {
    // A write that found the lock taken would fail at once instead of sleeping in the busy handler.
    const { db, ingest } = await threadedIngest('busy_timeout = 0');
    const ran: number[] = [];
    for (let round = 0; round < 5; round++) {
      const writes = Array.from({ length: 4000 }, (_, i) =>
        writeDurably(ingest, write(devices[i % devices.length]!, NOV_2026 + round * 4000 + i, i)),
      );
      // By then the thread is in the middle of committing the batch, holding the lock.
      await new Promise((resolve) => setTimeout(resolve, 5));
      ingest.whenIdle(() => {
        db.prepare("UPDATE identities SET lastip = ? WHERE identity = 'dev-0'").run(`10.0.0.${round}`);
        ran.push(round);
      });
      expect(await Promise.all(writes)).not.toContain(false);
    }
    await ingest.close();
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    db.close();
  });

  it('gives the calling thread’s writes their turn under a steady stream, holding the next batch back', async () => {
    const { db, ingest } = await threadedIngest('busy_timeout = 0');
    // New writes every turn of the event loop, so that a batch is always gathering while others commit.
    let streaming = true;
    let sent = 0;
    const stream = (async () => {
      while (streaming) {
        const writes = Array.from({ length: 200 }, (_, i) =>
          writeDurably(ingest, write(devices[i % devices.length]!, NOV_2026 + sent + i, i)),
        );
        sent += 200;
        await new Promise((resolve) => setImmediate(resolve));
        void Promise.all(writes);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ran = new Promise<number>((resolve) =>
      ingest.whenIdle(() => {
        db.prepare("UPDATE identities SET lastip = '10.0.0.9' WHERE identity = 'dev-0'").run();
        resolve(sent);
      }),
    );
    // Within a couple of commits, while the stream goes on; not once it has stopped.
    const timeout = new Promise<'starved'>((resolve) => setTimeout(() => resolve('starved'), 2_000));
    const outcome = await Promise.race([ran, timeout]);
    streaming = false;
    await stream;
    await ingest.close();
    expect(outcome).not.toBe('starved');
    db.close();
  });

  it('commits on the calling thread when the ingest thread fails, and says so', async () => {
    const { store, file } = await openIngestStore(['a']);
    await store.close();
    const db = openDatabase(file);
    // The thread opens the file by name, which no longer leads to it; this connection still does.
    renameSync(file, `${file}.moved`);
    let reportFailure!: (error: Error) => void;
    const failure = new Promise<Error>((resolve) => (reportFailure = resolve));
    const ingest = createSqliteIngestStore(db, undefined, {
      thread: true,
      onThreadFailure: (error) => reportFailure(error),
    });
    expect((await failure).message).toMatch(/unable to open/i);
    expect(await writeDurably(ingest, write('a', NOV_2026, 7))).toBe(true);
    await ingest.close();
    expect(db.prepare('SELECT value FROM samples_r12_202611').pluck().all()).toEqual([7]);
    db.close();
  });
});
