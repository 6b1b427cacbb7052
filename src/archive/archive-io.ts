import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { pipeline, Readable, Transform } from 'node:stream';
import { createGunzip, createGzip, gzipSync } from 'node:zlib';
import type { ArchiveHeader, ArchiveRow } from '../core/archive-ports.js';
import {
  ArchiveFormatError,
  headerLine,
  parseHeader,
  parseRow,
  rowLine,
  rowPrefix,
} from './archive-format.js';
import { lines } from './line-reader.js';

const CHUNK = 1 << 18;

/** Makes a rename (or a new file) in a directory durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a small file durably: a temporary name, fsync, rename, fsync of the directory. */
export async function writeFileDurably(path: string, content: string): Promise<void> {
  const temp = tempName(path);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await fsyncDir(dirname(path));
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** `sha256sum -c` reads this: the digest, two spaces, the file name. */
export const sidecarLine = (sha256: string, path: string) => `${sha256}  ${basename(path)}\n`;

/** The digest of a sidecar file's text, if it is one. */
export function parseSidecar(text: string): string | undefined {
  return /^([0-9a-f]{64}) [ *]/i.exec(text)?.[1]?.toLowerCase();
}

export interface Inspection {
  header: ArchiveHeader;
  rows: number;
  sha256: string;
  bytes: number;
}

/** The SHA-256 of a file. */
export async function sha256Of(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK, ...(signal && { signal }) }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Reads a whole archive file once: its SHA-256, and its decompressed lines, which must be a header
 * and as many rows as it announces (each row parsed too when `parseRows`). Throws
 * ArchiveFormatError (or zlib's error) with what is wrong.
 */
export async function inspectFile(
  path: string,
  options: { parseRows: boolean; signal?: AbortSignal },
): Promise<Inspection> {
  const hash = createHash('sha256');
  let bytes = 0;
  const digest = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const file = createReadStream(path, {
    highWaterMark: CHUNK,
    ...(options.signal && { signal: options.signal }),
  });
  // Errors of the file or of zlib surface in the reading below; stopping early destroys them all.
  const inflated = pipeline(file, digest, createGunzip({ chunkSize: CHUNK }), () => {});
  let header: ArchiveHeader | undefined;
  let rows = 0;
  if (options.parseRows) {
    let line = 0;
    for await (const batch of lines(inflated as AsyncIterable<Buffer>)) {
      for (const text of batch) {
        line++;
        if (header === undefined) header = parseHeader(text);
        else {
          parseRow(text, line);
          rows++;
        }
      }
    }
  } else {
    // Rows are counted without being decoded: only the header is read as text.
    const start: Buffer[] = [];
    let last = 10;
    for await (const chunk of inflated as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      let from = 0;
      if (header === undefined) {
        const end = chunk.indexOf(10);
        start.push(end < 0 ? chunk : chunk.subarray(0, end));
        if (end < 0) continue;
        header = parseHeader(Buffer.concat(start).toString('utf8'));
        from = end + 1;
        last = 10;
        if (from === chunk.length) continue;
      }
      for (let i = chunk.indexOf(10, from); i >= 0; i = chunk.indexOf(10, i + 1)) rows++;
      last = chunk[chunk.length - 1]!;
    }
    if (header === undefined && start.length > 0) header = parseHeader(Buffer.concat(start).toString('utf8'));
    // A last row without its newline.
    if (last !== 10) rows++;
  }
  if (!header) throw new ArchiveFormatError('the file is empty');
  if (rows !== header.rows)
    throw new ArchiveFormatError(`the header announces ${header.rows} rows, the file holds ${rows}`);
  return { header, rows, sha256: hash.digest('hex'), bytes };
}

/** Archive lines of rows, one string per page; a series' constant prefix is encoded once. */
async function* encode(
  rows: AsyncIterable<ArchiveRow[]>,
  count: (n: number) => void,
): AsyncGenerator<string> {
  let identity = '';
  let signal = '';
  let resource = '';
  let prefix = '';
  for await (const page of rows) {
    let text = '';
    for (const row of page) {
      if (row[0] !== identity || row[1] !== signal || row[2] !== resource) {
        [identity, signal, resource] = row;
        prefix = rowPrefix(identity, signal, resource);
      }
      text += rowLine(prefix, row);
    }
    count(page.length);
    if (text !== '') yield text;
  }
}

export interface WrittenFile {
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * Writes an archive file under a temporary name, fsyncs it, reads it back (checksum, header, row
 * count), renames it into place, then writes its `.sha256` sidecar the same way: a file is
 * complete once its name exists, and verified once its sidecar does.
 */
export async function writeArchiveFile(options: {
  path: string;
  day: string;
  retention: number;
  rows: AsyncIterable<ArchiveRow[]>;
  level: number;
  createdAt: string;
  onProgress?: (rows: number) => void;
}): Promise<WrittenFile> {
  const { path, day, retention, createdAt } = options;
  const header = (rows: number) =>
    // Stored (level 0), so that it has the same length whatever the count.
    gzipSync(headerLine({ day, retention, rows, created_at: createdAt }), { level: 0 });
  const placeholder = header(0);
  const temp = tempName(path);
  const handle = await open(temp, 'w');
  let rows = 0;
  try {
    await handle.write(placeholder, 0, placeholder.length, 0);
    await pipelineAsync(
      Readable.from(
        encode(options.rows, (n) => {
          rows += n;
          options.onProgress?.(rows);
        }),
      ),
      createGzip({ level: options.level, chunkSize: CHUNK }),
      async (chunks: AsyncIterable<Buffer>) => {
        let position = placeholder.length;
        for await (const chunk of chunks) {
          await handle.write(chunk, 0, chunk.length, position);
          position += chunk.length;
        }
      },
    );
    const final = header(rows);
    if (final.length !== placeholder.length) throw new Error('archive header changed length');
    await handle.write(final, 0, final.length, 0);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  let inspection: Inspection;
  try {
    inspection = await inspectFile(temp, { parseRows: false });
    if (inspection.rows !== rows || inspection.header.day !== day)
      throw new Error(`archive file read back with ${inspection.rows} rows, ${rows} written`);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  await rename(temp, path);
  await fsyncDir(dirname(path));
  await writeFileDurably(`${path}.sha256`, sidecarLine(inspection.sha256, path));
  return { rows, bytes: inspection.bytes, sha256: inspection.sha256 };
}
