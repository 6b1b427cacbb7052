import type Database from 'better-sqlite3';

/** Rows per statement, largest first: one call into SQLite per chunk, not per row. */
const CHUNKS = [256, 64, 16, 4, 1];

/**
 * Runs a statement built for n rows over flat parameters in chunks: binding a statement costs
 * about as much as inserting a row, so inserting rows in chunks roughly halves the cost of ingest.
 * `onChunk` gets each chunk's result with the offset (in rows) of its first row.
 */
export function runChunked(
  statement: (rows: number) => Database.Statement,
  params: unknown[],
  columns: number,
  onChunk?: (result: Database.RunResult, firstRow: number, rows: number) => void,
): void {
  const rows = params.length / columns;
  let row = 0;
  for (const size of CHUNKS) {
    while (rows - row >= size) {
      const result = statement(size).run(params.slice(row * columns, (row + size) * columns));
      onChunk?.(result, row, size);
      row += size;
    }
  }
}

/** `(?, ?, ?), (?, ?, ?)` for rows × columns. */
export function placeholders(rows: number, columns: number): string {
  const one = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => one).join(', ');
}
