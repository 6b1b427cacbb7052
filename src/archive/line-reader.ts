import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Large reads and inflate chunks: archive files are read whole, start to end. */
const CHUNK = 1 << 18;

/** The lines of a text stream, in arrays (one per chunk); the last line may lack its newline. */
export async function* lines(stream: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + decoder.write(chunk);
    const parts = text.split('\n');
    rest = parts.pop()!;
    if (parts.length > 0) yield parts;
  }
  rest += decoder.end();
  if (rest !== '') yield [rest];
}

/** The decompressed lines of a gzip file (every gzip member of it, in order). */
export function gzipLines(path: string, signal?: AbortSignal): AsyncGenerator<string[]> {
  const file = createReadStream(path, { highWaterMark: CHUNK, ...(signal && { signal }) });
  // pipeline destroys both streams when either fails, or when the reader stops early.
  return lines(pipeline(file, createGunzip({ chunkSize: CHUNK }), () => {}) as AsyncIterable<Buffer>);
}
