import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReadBatch, type ReadBatch } from './read-batch.js';

describe('reads batched per turn of the event loop', () => {
  let db: Database.Database;
  let reads: ReadBatch;
  beforeEach(() => {
    db = new Database(':memory:');
    db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one'), (2, 'two')");
    reads = createReadBatch(db);
  });
  afterEach(() => db.close());

  const value = (k: number) => () => {
    const row = db.prepare('SELECT v FROM t WHERE k = ?').get(k) as { v: string } | undefined;
    return { v: row?.v, inTransaction: db.inTransaction };
  };

  it('answers the reads of one turn from one transaction, each with its own result', async () => {
    const [a, b, missing] = await Promise.all([
      reads.run(value(1)),
      reads.run(value(2)),
      reads.run(value(3)),
    ]);
    expect(a).toEqual({ v: 'one', inTransaction: true });
    expect(b).toEqual({ v: 'two', inTransaction: true });
    expect(missing).toEqual({ v: undefined, inTransaction: true });
    expect(db.inTransaction).toBe(false);
  });

  it('fails a read that throws alone', async () => {
    const failing = reads.run(() => db.prepare('SELECT nope FROM t').get());
    const fine = reads.run(value(1));
    await expect(failing).rejects.toThrow(/no such column/);
    await expect(fine).resolves.toMatchObject({ v: 'one' });
  });

  it('sees what was committed before its turn, and runs again for reads of a later turn', async () => {
    expect(await reads.run(value(1))).toMatchObject({ v: 'one' });
    db.prepare("UPDATE t SET v = 'uno' WHERE k = 1").run();
    expect(await reads.run(value(1))).toMatchObject({ v: 'uno' });
  });
});
