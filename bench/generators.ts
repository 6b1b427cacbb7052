import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Job, Request, Response } from './load-worker.js';
import { track } from './server-process.js';

/** A forked load-generator process (bench/load-worker.ts) that runs one job at a time. */
export class Generator {
  private readonly child: ChildProcess;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(root: string) {
    this.child = fork(join(root, 'bench/load-worker.ts'), [], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    track(this.child);
    this.child.on('message', (message: Response) => {
      const call = this.pending.get(message.id);
      this.pending.delete(message.id);
      if ('error' in message) call?.reject(new Error(`load generator: ${message.error}`));
      else call?.resolve(message.result);
    });
    this.child.once('exit', (code, signal) => {
      for (const call of this.pending.values())
        call.reject(new Error(`load generator exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run<T>(job: Job): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, job } satisfies Request);
    });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

export function startGenerators(root: string, count: number): Generator[] {
  return Array.from({ length: count }, () => new Generator(root));
}

/** Deals `items` round-robin into `parts` lists, one per generator. */
export function deal<T>(items: T[], parts: number): T[][] {
  const hands = Array.from({ length: parts }, (): T[] => []);
  items.forEach((item, i) => hands[i % parts]!.push(item));
  return hands;
}
