import { IDENTITY, SIGNAL, TIMESTAMP, type ArchiveHeader, type ArchiveRow } from '../core/archive-ports.js';

/**
 * The daily archive file (docs/archive.md): gzip-compressed NDJSON. The first line is a JSON object
 * describing the file; every other line is one sample, a JSON array in the order of `columns`.
 * Strings, numbers and booleans keep their JSON types, so a value's type survives the round trip.
 */
export const FORMAT = 'fleetgate-archive';
export const VERSION = 1;
export const COLUMNS = ['identity', 'signal', 'resource', 'timestamp', 'received_at', 'value'];
/** `rows` is written padded to this width, so the header can be rewritten in place once counted. */
export const ROWS_WIDTH = 16;

export class ArchiveFormatError extends Error {
  override name = 'ArchiveFormatError';
}

/**
 * The header line, rows last: `"rows": 8640000` followed by spaces (JSON allows them), so that a
 * header written before the rows are counted has exactly the length of the final one.
 */
export function headerLine(header: Omit<ArchiveHeader, 'format' | 'version' | 'columns'>): string {
  const fields = {
    format: FORMAT,
    version: VERSION,
    day: header.day,
    retention: header.retention,
    columns: COLUMNS,
    time_unit:
      'microseconds since 1970-01-01T00:00:00Z (timestamp: reported by the device; received_at: stored by the gateway)',
    created_at: header.created_at,
  };
  const count = String(header.rows);
  if (count.length > ROWS_WIDTH) throw new ArchiveFormatError(`too many rows: ${count}`);
  return `${JSON.stringify(fields).slice(0, -1)},"rows":${count.padEnd(ROWS_WIDTH)}}\n`;
}

const describe = (line: string) => (line.length > 80 ? `${line.slice(0, 80)}…` : line);

export function parseHeader(line: string): ArchiveHeader {
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    throw new ArchiveFormatError(`the first line is not a JSON header: ${describe(line)}`);
  }
  const h = header as Partial<ArchiveHeader> | null;
  if (typeof h !== 'object' || h === null || h.format !== FORMAT)
    throw new ArchiveFormatError(`not a ${FORMAT} file: its first line is ${describe(line)}`);
  if (h.version !== VERSION)
    throw new ArchiveFormatError(
      `archive format version ${String(h.version)} is not supported (this build reads ${VERSION})`,
    );
  if (
    typeof h.day !== 'string' ||
    !Number.isSafeInteger(h.rows) ||
    !Number.isSafeInteger(h.retention) ||
    JSON.stringify(h.columns) !== JSON.stringify(COLUMNS)
  )
    throw new ArchiveFormatError(`the header is incomplete: ${describe(line)}`);
  return h as ArchiveHeader;
}

/** The constant start of the rows of one series. */
export function rowPrefix(identity: string, signal: string, resource: string): string {
  return `[${JSON.stringify(identity)},${JSON.stringify(signal)},${JSON.stringify(resource)},`;
}

export function rowLine(prefix: string, row: ArchiveRow): string {
  return `${prefix}${row[3]},${row[4]},${JSON.stringify(row[5])}]\n`;
}

const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** One row line; `at` (its line number) names it in the error. */
export function parseRow(line: string, at: number): ArchiveRow {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    throw new ArchiveFormatError(`line ${at} is not JSON: ${describe(line)}`);
  }
  if (!Array.isArray(row) || row.length !== COLUMNS.length)
    throw new ArchiveFormatError(`line ${at} is not a row of ${COLUMNS.length} columns: ${describe(line)}`);
  const [identity, signal, resource, timestamp, receivedAt, value] = row as unknown[];
  if (
    typeof identity !== 'string' ||
    typeof signal !== 'string' ||
    typeof resource !== 'string' ||
    identity === '' ||
    signal === '' ||
    !isTime(timestamp) ||
    !isTime(receivedAt) ||
    !(
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    )
  )
    throw new ArchiveFormatError(`line ${at} has a column of the wrong type: ${describe(line)}`);
  return row as ArchiveRow;
}

/** Orders strings as SQLite's BINARY collation does: by their UTF-8 bytes. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Below the surrogates, UTF-16 code units order as code points, hence as UTF-8 bytes.
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
  }
  return a.length - b.length;
}

/** Orders rows by identity, signal and timestamp: the order of archive files. */
export function compareRows(a: ArchiveRow, b: ArchiveRow): number {
  return (
    compareUtf8(a[IDENTITY], b[IDENTITY]) || compareUtf8(a[SIGNAL], b[SIGNAL]) || a[TIMESTAMP] - b[TIMESTAMP]
  );
}
