import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { ArchiveRow } from '../core/archive-ports.js';
import { compareUtf8, headerLine } from './archive-format.js';
import { archiveFileName, createFileArchive } from './archive-files.js';
import { withFileLock } from './day-lock.js';
import { mergeRows } from './merge-rows.js';

const newDir = () => mkdtempSync(join(tmpdir(), 'fleetgate-archive-files-'));

async function* pages(...list: ArchiveRow[][]): AsyncGenerator<ArchiveRow[]> {
  for (const page of list) yield page;
}

async function all(iterable: AsyncIterable<ArchiveRow[]>): Promise<ArchiveRow[]> {
  const rows: ArchiveRow[] = [];
  for await (const page of iterable) rows.push(...page);
  return rows;
}

const row = (identity: string, signal: string, timestamp: number, value: number | string): ArchiveRow => [
  identity,
  signal,
  signal,
  timestamp,
  timestamp + 1,
  value,
];

describe('archive files', () => {
  it('orders identities and signals as SQLite does, by UTF-8 bytes', () => {
    const names = [
      'b',
      'a',
      'ab',
      'B',
      'é',
      'z',
      '\u{1F600}',
      '\uFFFD',
      '\uE000',
      'a\u{10000}',
      'a\uFFFF',
      '',
    ];
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (name TEXT)');
    for (const name of names) db.prepare('INSERT INTO t VALUES (?)').run(name);
    const sqlite = db.prepare('SELECT name FROM t ORDER BY name').pluck().all();
    expect([...names].sort(compareUtf8)).toEqual(sqlite);
  });

  it('merges two ordered sequences, a newer row replacing the older one of the same key', async () => {
    const older = pages([row('a', 's', 1, 1), row('a', 's', 3, 3)], [row('b', 's', 1, 1)]);
    const newer = pages([row('a', 's', 2, 20), row('a', 's', 3, 30)], [], [row('c', 's', 1, 1)]);
    expect(await all(mergeRows(older, newer))).toEqual([
      row('a', 's', 1, 1),
      row('a', 's', 2, 20),
      row('a', 's', 3, 30),
      row('b', 's', 1, 1),
      row('c', 's', 1, 1),
    ]);
  });

  it('lists the files of a range of days across months, by day then retention class', async () => {
    const dir = newDir();
    const files = createFileArchive({ dir, urlTimeoutMs: 1000 });
    for (const [day, retention] of [
      ['2023-12-31', 12],
      ['2024-01-01', 3],
      ['2024-01-01', 0],
      ['2024-02-10', 12],
      ['2024-03-01', 12],
    ] as const)
      await files.writeDay(day, retention, pages([row('a', 's', Date.parse(day) * 1000, 1)]));
    writeFileSync(join(dir, '2024/01/notes.txt'), 'not an archive');
    expect((await files.list('2023-12-31', '2024-02-29')).map((f) => f.name)).toEqual([
      '2023/12/2023-12-31.r12.ndjson.gz',
      '2024/01/2024-01-01.r0.ndjson.gz',
      '2024/01/2024-01-01.r3.ndjson.gz',
      '2024/02/2024-02-10.r12.ndjson.gz',
    ]);
    expect(await files.list('2024-01-02', '2024-02-09')).toEqual([]);
  });

  it('keeps an earlier day file it cannot read aside, under a name that says so, and writes the day anew', async () => {
    const dir = newDir();
    const files = createFileArchive({ dir, urlTimeoutMs: 1000 });
    mkdirSync(join(dir, '2024/01'), { recursive: true });
    writeFileSync(join(dir, archiveFileName('2024-01-05', 3)), 'garbage');
    const written = await files.writeDay('2024-01-05', 3, pages([row('a', 's', 1, 1)]));
    expect(written.rows).toBe(1);
    expect(readdirSync(join(dir, '2024/01')).sort()).toEqual([
      '2024-01-05.r3.ndjson.gz',
      expect.stringMatching(/^2024-01-05\.r3\.ndjson\.gz\.sha256$/) as unknown,
      expect.stringMatching(/^2024-01-05\.r3\.ndjson\.gz\.unreadable-\d+$/) as unknown,
    ]);
  });

  it('opens only files that are whole archives, saying what is wrong with the others', async () => {
    const dir = newDir();
    const files = createFileArchive({ dir, urlTimeoutMs: 1000 });
    const open = (path: string, requireChecksum = false) => files.open(path, { requireChecksum });
    const write = (name: string, bytes: Buffer | string) => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    };
    const header = headerLine({ day: '2024-01-05', retention: 3, rows: 2, created_at: 'now' });
    await expect(open(join(dir, 'nothing.ndjson.gz'))).rejects.toThrow(/^file not found: /);
    await expect(open(dir)).rejects.toThrow(/^not a file: /);
    await expect(open(write('plain.ndjson.gz', 'not gzip'))).rejects.toThrow(/^not a valid gzip file \(/);
    await expect(open(write('text.gz', gzipSync('hello\n')))).rejects.toThrow(
      'the first line is not a JSON header: hello',
    );
    await expect(open(write('json.gz', gzipSync('{"a":1}\n')))).rejects.toThrow(
      'not a fleetgate-archive file: its first line is {"a":1}',
    );
    await expect(open(write('short.gz', gzipSync(`${header}["a","s","s",1,2,3]\n`)))).rejects.toThrow(
      'the header announces 2 rows, the file holds 1',
    );
    const good = write('good.gz', gzipSync(`${header}["a","s","s",1,2,3]\n["a","s","s",2,3,"x"]`));
    await expect(open(good, true)).rejects.toThrow('no checksum file good.gz.sha256');
    const opened = await open(good);
    expect(opened.header).toMatchObject({ day: '2024-01-05', retention: 3, rows: 2 });
    expect(await all(opened.rows())).toEqual([
      ['a', 's', 's', 1, 2, 3],
      ['a', 's', 's', 2, 3, 'x'],
    ]);
    write('good.gz.sha256', 'deadbeef  good.gz\n');
    await expect(open(good)).rejects.toThrow('good.gz.sha256 is not a SHA-256 checksum file');
  });

  it('waits for a lock held by a live process, and takes over the lock of one that is gone', async () => {
    const path = join(newDir(), 'day.ndjson.gz');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(`${path}.lock`, `${gone}\n`);
    expect(await withFileLock(path, () => Promise.resolve('taken over'))).toBe('taken over');
    writeFileSync(`${path}.lock`, `${process.ppid}\n`);
    await expect(withFileLock(path, () => Promise.resolve('never'), 300)).rejects.toThrow(
      `is being written by process ${process.ppid}`,
    );
    // Within one process, the second writer waits for the first.
    const order: string[] = [];
    let release!: () => void;
    const first = withFileLock(`${path}-2`, () =>
      new Promise<void>((resolve) => (release = resolve)).then(() => void order.push('first')),
    );
    await expect.poll(() => existsSync(`${path}-2.lock`)).toBe(true);
    const second = withFileLock(`${path}-2`, () => Promise.resolve(void order.push('second')));
    // The second waits on the lock file of the first.
    await new Promise((resolve) => setTimeout(resolve, 250));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });
});
