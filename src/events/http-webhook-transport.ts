import type { WebhookTransport } from '../core/webhook-ports.js';

/** Enough of a refusal's body to say why, without reading whatever a receiver sends. */
const MAX_DETAIL_BYTES = 512;

async function bodyStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_DETAIL_BYTES) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || !value) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel();
  return Buffer.concat(chunks).subarray(0, MAX_DETAIL_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

/**
 * Webhook attempts over HTTP(S) with fetch. Redirects are not followed: a POST that is
 * redirected would change method or lose its body, so a 3xx is a failed attempt like any non-2xx.
 */
export function createHttpWebhookTransport(userAgent: string): WebhookTransport {
  return {
    async post({ url, headers, body, timeoutMs, signal }) {
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { ...headers, 'user-agent': userAgent },
          body,
          redirect: 'manual',
          signal: AbortSignal.any([signal, timeout]),
        });
        if (response.status >= 200 && response.status < 300) {
          await response.body?.cancel();
          return { ok: true };
        }
        const detail = await bodyStart(response).catch(() => '');
        return { ok: false, error: `HTTP ${response.status}${detail ? `: ${detail}` : ''}` };
      } catch (error) {
        if (timeout.aborted) return { ok: false, error: `no answer within ${timeoutMs} ms` };
        if (signal.aborted) return { ok: false, error: 'abandoned: the gateway is stopping' };
        return { ok: false, error: reason(error) };
      }
    },
  };
}
