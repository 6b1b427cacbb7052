import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCheckpointer } from './checkpointer.js';
import { openDatabase } from './open-database.js';

describe('the checkpointer', () => {
  it('hands the rewind of a long WAL to the function it was given', async () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'fleetgate-checkpointer-')), 'db'));
    const checkpointer = startCheckpointer(db, { intervalMs: 10, restartPages: 16, restartBacklog: 4 });
    const asked = new Promise<void>((resolve) => checkpointer?.rewindWith(resolve));
    db.exec('CREATE TABLE filler (data BLOB)');
    // About 64 pages of WAL, past the 16 after which the log is to be rewound.
    const insert = db.prepare('INSERT INTO filler VALUES (zeroblob(4000))');
    for (let k = 0; k < 64; k++) insert.run();
    await asked;
    await checkpointer?.stop();
    db.close();
  });

  it('does not run for a database in memory', () => {
    const db = openDatabase(':memory:');
    expect(startCheckpointer(db)).toBeUndefined();
    db.close();
  });
});
