/**
 * A load generator process of the device benchmark (forked by bench/generators.ts): it runs the
 * jobs its parent sends over IPC and answers each with its result, so that the generator's CPU is
 * its own, apart from the bench's orchestration and from the server under test.
 */
import { runHttpWrites, type HttpWriteJob } from './http-load.js';
import { openIdle, type IdleJob } from './mqtt-idle.js';
import { runPublish, type PublishJob } from './mqtt-load.js';

export type Job =
  | ({ kind: 'publish' } & PublishJob)
  | ({ kind: 'idle-open' } & IdleJob)
  | { kind: 'idle-close' }
  | ({ kind: 'http-write' } & HttpWriteJob);

export interface Request {
  id: number;
  job: Job;
}

export type Response = { id: number; result: unknown } | { id: number; error: string };

let idle: ReturnType<typeof openIdle> | undefined;

async function run(job: Job): Promise<unknown> {
  switch (job.kind) {
    case 'publish':
      return runPublish(job);
    case 'http-write':
      return runHttpWrites(job);
    case 'idle-open':
      idle = openIdle(job);
      return idle.ready;
    case 'idle-close': {
      const late = idle?.close() ?? { failures: {} };
      idle = undefined;
      return late;
    }
  }
}

process.on('message', (message: Request) => {
  run(message.job).then(
    (result) => process.send?.({ id: message.id, result } satisfies Response),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) } satisfies Response),
  );
});
// The parent gone, nothing is left to do.
process.on('disconnect', () => process.exit(0));
