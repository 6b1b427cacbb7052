import type { ArchiveRow } from '../core/archive-ports.js';
import { compareRows } from './archive-format.js';

const PAGE = 8192;

/** Pages of an async iterable of pages, read row by row. */
class Cursor {
  private page: ArchiveRow[] = [];
  private index = 0;
  private done = false;
  constructor(private readonly iterator: AsyncIterator<ArchiveRow[]>) {}

  /** The current row, reading the next page when needed; undefined at the end. */
  async peek(): Promise<ArchiveRow | undefined> {
    while (this.index >= this.page.length && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else [this.page, this.index] = [next.value, 0];
    }
    return this.page[this.index];
  }

  advance(): void {
    this.index++;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/**
 * Merges two sequences ordered as archive files are (identity, signal, timestamp): every row of
 * both, except that a row of `newer` replaces the row of `older` with the same key.
 */
export async function* mergeRows(
  older: AsyncIterable<ArchiveRow[]>,
  newer: AsyncIterable<ArchiveRow[]>,
): AsyncGenerator<ArchiveRow[]> {
  const a = new Cursor(older[Symbol.asyncIterator]());
  const b = new Cursor(newer[Symbol.asyncIterator]());
  try {
    let out: ArchiveRow[] = [];
    for (;;) {
      const x = await a.peek();
      const y = await b.peek();
      if (x === undefined && y === undefined) break;
      const order = x === undefined ? 1 : y === undefined ? -1 : compareRows(x, y);
      if (order < 0) {
        out.push(x!);
        a.advance();
      } else {
        out.push(y!);
        b.advance();
        if (order === 0) a.advance();
      }
      if (out.length >= PAGE) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}
