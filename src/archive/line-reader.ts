import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Large reads and inflate chunks: archive files are read whole, start to end. */
const CHUNK = 1 << 18;

/**
 * The lines of a UTF-8 stream, in arrays (one per chunk); the last line may lack its newline. Each
 * chunk is cut after its last newline, which is always a character boundary, and decoded at once.
 */
export async function* lines(stream: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  let rest: Buffer | undefined;
  for await (const chunk of stream) {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      rest = rest ? Buffer.concat([rest, chunk]) : chunk;
      continue;
    }
    const head = rest ? Buffer.concat([rest, chunk.subarray(0, last)]) : chunk.subarray(0, last);
    rest = last + 1 < chunk.length ? chunk.subarray(last + 1) : undefined;
    yield head.toString('utf8').split('\n');
  }
  if (rest && rest.length > 0) yield [rest.toString('utf8')];
}

/** The decompressed lines of a gzip file (every gzip member of it, in order). */
export function gzipLines(path: string, signal?: AbortSignal): AsyncGenerator<string[]> {
  const file = createReadStream(path, { highWaterMark: CHUNK, ...(signal && { signal }) });
  // pipeline destroys both streams when either fails, or when the reader stops early.
  return lines(pipeline(file, createGunzip({ chunkSize: CHUNK }), () => {}) as AsyncIterable<Buffer>);
}
