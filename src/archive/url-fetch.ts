import { open } from 'node:fs/promises';

export class FetchError extends Error {
  override name = 'FetchError';
}

/**
 * Downloads a URL into a file. The server must answer, and then keep sending, within `idleMs`
 * each time: a server that says nothing fails the download after that long, however large the
 * file. Resolves false on a 404 when `missingOk`.
 */
export async function download(
  url: string,
  path: string,
  options: { idleMs: number; signal?: AbortSignal; missingOk?: boolean },
): Promise<boolean> {
  const controller = new AbortController();
  const silent = () =>
    controller.abort(new FetchError(`${url} did not answer within ${options.idleMs / 1000} s`));
  let timer = setTimeout(silent, options.idleMs);
  const outer = options.signal;
  const cancel = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', cancel, { once: true });
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    } catch (error) {
      throw reason(controller.signal, error, url);
    }
    if (response.status === 404 && options.missingOk) {
      await response.body?.cancel();
      return false;
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new FetchError(`${url} answered HTTP ${response.status}`);
    }
    const handle = await open(path, 'w');
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(timer);
        timer = setTimeout(silent, options.idleMs);
        await handle.write(chunk);
      }
    } catch (error) {
      throw reason(controller.signal, error, url);
    } finally {
      await handle.close();
    }
    return true;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', cancel);
  }
}

/** An abort's own reason (the silence, or the caller's stop) rather than fetch's wrapper of it. */
function reason(signal: AbortSignal, error: unknown, url: string): unknown {
  if (signal.aborted) return signal.reason as unknown;
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return new FetchError(`cannot fetch ${url}: ${cause ?? (error as Error).message}`);
}
