import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ArchiveFileInfo,
  ArchiveFileRef,
  ArchiveFiles,
  ArchiveRow,
  OpenedArchive,
  OpenOptions,
} from '../core/archive-ports.js';
import { ArchiveFormatError, parseRow } from './archive-format.js';
import { inspectFile, parseSidecar, sha256Of, writeArchiveFile, type Inspection } from './archive-io.js';
import { withFileLock } from './day-lock.js';
import { gzipLines } from './line-reader.js';
import { mergeRows } from './merge-rows.js';
import { download } from './url-fetch.js';

export interface FileArchiveOptions {
  /** The archive directory: `<dir>/<YYYY>/<MM>/<YYYY-MM-DD>.r<R>.ndjson.gz`. */
  dir: string;
  /** How long a restore URL may stay silent, in ms. */
  urlTimeoutMs: number;
  /** gzip level of the files written (1 fastest … 9 smallest). */
  level?: number;
  /** The time written in headers, µs. */
  now?: () => number;
}

const FILE_NAME = /^(\d{4}-\d{2}-\d{2})\.r(\d+)\.ndjson\.gz$/;
const DEFAULT_LEVEL = 6;

export const archiveFileName = (day: string, retention: number) =>
  `${day.slice(0, 4)}/${day.slice(5, 7)}/${day}.r${retention}.ndjson.gz`;

/** `2024-07-29T07:40:00.123456Z`. */
function iso(micros: number): string {
  return `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

async function* readRows(path: string, signal?: AbortSignal): AsyncGenerator<ArchiveRow[]> {
  let line = 0;
  for await (const batch of gzipLines(path, signal)) {
    const page: ArchiveRow[] = [];
    for (const text of batch) {
      line++;
      if (line > 1) page.push(parseRow(text, line));
    }
    if (page.length > 0) yield page;
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** What went wrong with a file, in words for the task status. */
function describe(error: unknown, source: string): Error {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return new ArchiveFormatError(`file not found: ${source}`);
  if (e.code === 'EISDIR') return new ArchiveFormatError(`not a file: ${source}`);
  if (typeof e.code === 'string' && e.code.startsWith('Z_'))
    return new ArchiveFormatError(`not a valid gzip file (${e.message})`);
  return error instanceof Error ? error : new Error(String(error));
}

/** Checks a local file against its sidecar (when it has one), and whole. */
async function verify(path: string, sidecar: string | undefined, options: OpenOptions): Promise<Inspection> {
  const expected = sidecar === undefined ? undefined : parseSidecar(sidecar);
  if (sidecar !== undefined && expected === undefined)
    throw new ArchiveFormatError(`${basename(path)}.sha256 is not a SHA-256 checksum file`);
  if (expected === undefined && options.requireChecksum)
    throw new ArchiveFormatError(
      `no checksum file ${basename(path)}.sha256: the archiving of this file did not finish`,
    );
  if (expected !== undefined) {
    const actual = await sha256Of(path, options.signal);
    if (actual !== expected)
      throw new ArchiveFormatError(
        `checksum mismatch: the file is corrupt (its SHA-256 is ${actual}, its .sha256 file says ${expected})`,
      );
  }
  // A file whose checksum matches is the one the archive wrote, rows and all; any other is read
  // row by row before anything is restored from it.
  return inspectFile(path, {
    parseRows: expected === undefined,
    ...(options.signal && { signal: options.signal }),
  });
}

/** Daily archive files in a directory, and restore sources (paths and URLs). */
export function createFileArchive(options: FileArchiveOptions): ArchiveFiles {
  const { dir } = options;
  const level = options.level ?? DEFAULT_LEVEL;
  const now = options.now ?? (() => Date.now() * 1000);

  /** An earlier file that cannot be read is kept aside, under a name that says so. */
  async function setAside(path: string): Promise<void> {
    const suffix = `.unreadable-${Date.now()}`;
    await rename(path, `${path}${suffix}`);
    await rename(`${path}.sha256`, `${path}.sha256${suffix}`).catch(() => {});
  }

  async function writeDay(
    day: string,
    retention: number,
    rows: AsyncIterable<ArchiveRow[]>,
    onProgress?: (rows: number) => void,
  ): Promise<ArchiveFileInfo> {
    const name = archiveFileName(day, retention);
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    return withFileLock(path, async () => {
      let source = rows;
      if (await exists(path)) {
        const sidecar = await readFile(`${path}.sha256`, 'utf8').catch(() => undefined);
        try {
          await verify(path, sidecar, { requireChecksum: false });
          source = mergeRows(readRows(path), rows);
        } catch {
          await setAside(path);
        }
      }
      const written = await writeArchiveFile({
        path,
        day,
        retention,
        rows: source,
        level,
        createdAt: iso(now()),
        ...(onProgress && { onProgress }),
      });
      return { name, path, day, retention, ...written };
    });
  }

  async function list(fromDay: string, toDay: string): Promise<ArchiveFileRef[]> {
    const files: ArchiveFileRef[] = [];
    let [year, month] = [Number(fromDay.slice(0, 4)), Number(fromDay.slice(5, 7))];
    for (;;) {
      const folder = `${year}/${String(month).padStart(2, '0')}`;
      if (folder.replace('/', '-') > toDay.slice(0, 7)) break;
      const names = await readdir(join(dir, folder)).catch(() => [] as string[]);
      for (const file of names) {
        const match = FILE_NAME.exec(file);
        if (!match || match[1]! < fromDay || match[1]! > toDay) continue;
        const name = `${folder}/${file}`;
        files.push({ name, path: join(dir, name), day: match[1]!, retention: Number(match[2]) });
      }
      [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
    }
    return files.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.retention - b.retention));
  }

  async function open(source: string, openOptions: OpenOptions): Promise<OpenedArchive> {
    const { signal } = openOptions;
    const remote = /^https?:/i.test(source);
    let path = remote ? '' : source.startsWith('file:') ? fileURLToPath(source) : source;
    const downloaded: string[] = [];
    const close = async () => void (await Promise.all(downloaded.map((f) => unlink(f).catch(() => {}))));
    try {
      let sidecar: string | undefined;
      if (remote) {
        const incoming = join(dir, '.incoming');
        await mkdir(incoming, { recursive: true });
        path = join(incoming, `${randomUUID()}.ndjson.gz`);
        downloaded.push(path, `${path}.sha256`);
        const fetchOptions = { idleMs: options.urlTimeoutMs, ...(signal && { signal }) };
        await download(source, path, fetchOptions);
        const url = new URL(source);
        url.pathname += '.sha256';
        if (await download(url.href, `${path}.sha256`, { ...fetchOptions, missingOk: true }))
          sidecar = await readFile(`${path}.sha256`, 'utf8');
      } else {
        if (!(await stat(path)).isFile()) throw Object.assign(new Error(), { code: 'EISDIR' });
        sidecar = await readFile(`${path}.sha256`, 'utf8').catch(() => undefined);
      }
      const { header } = await verify(path, sidecar, openOptions);
      return { header, rows: () => readRows(path, signal), close };
    } catch (error) {
      await close();
      throw signal?.aborted ? (signal.reason as unknown) : describe(error, source);
    }
  }

  async function discardDownloads(): Promise<void> {
    await rm(join(dir, '.incoming'), { recursive: true, force: true });
  }

  return { writeDay, list, open, discardDownloads };
}
