import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received (what the signature covers). */
  body: string;
}

export interface WebhookReceiver {
  url: string;
  posts: ReceivedPost[];
  /** Decides the status of each POST (n counts from 0); 'hang' never answers. */
  respond: (post: ReceivedPost, n: number) => number | 'hang';
  close(): Promise<void>;
}

/** A local HTTP server standing for a webhook receiver. */
export async function startReceiver(
  respond: WebhookReceiver['respond'] = () => 204,
): Promise<WebhookReceiver> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const post = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const n = receiver.posts.length;
      receiver.posts.push(post);
      const status = receiver.respond(post, n);
      if (status !== 'hang') res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/fleetgate`,
    posts: [],
    respond,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
