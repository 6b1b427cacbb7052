export interface StreamMessage {
  id?: string;
  event?: string;
  data?: unknown;
}

export interface EventStreamReader {
  status: number;
  contentType: string | null;
  /** Messages with data received so far. */
  messages: StreamMessage[];
  /** Resolves when the gateway ends the stream. */
  ended: Promise<void>;
  cancel(): Promise<void>;
}

/** Opens `GET /api/v1/events` with fetch and parses the Server-Sent Events as they stream in. */
export async function openEventStream(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<EventStreamReader> {
  const response = await fetch(url, { headers: { ...headers, authorization: `Bearer ${token}` } });
  const messages: StreamMessage[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const ended = (async () => {
    for (;;) {
      const { done, value } = (await reader.read().catch(() => ({ done: true }))) as {
        done: boolean;
        value?: Uint8Array;
      };
      if (done) return;
      text += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const message: StreamMessage = {};
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) message.id = line.slice(4);
          else if (line.startsWith('event: ')) message.event = line.slice(7);
          else if (line.startsWith('data: ')) message.data = JSON.parse(line.slice(6));
        }
        if (message.data !== undefined) messages.push(message);
      }
    }
  })();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    messages,
    ended,
    cancel: () => reader.cancel(),
  };
}
