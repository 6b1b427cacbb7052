import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  name: string;
  pid: number;
  /** Port of each listener that reported itself, by listener name. */
  ports: Record<string, number>;
  /** The last lines it wrote to stderr, for error messages. */
  stderr(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export interface ServerOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Listener names expected as `{"msg":"listening","listener":…,"port":…}` lines on stdout.
   * Once the first one is seen, the others get `graceMs` to show up: a server without one of them
   * resolves with the ones it has, and the caller decides.
   */
  listeners?: string[];
  /** For a server that logs nothing usable (mosquitto): the port it was told, polled until it accepts. */
  port?: number;
  graceMs?: number;
  timeoutMs?: number;
}

/** Every child the bench started and has not seen exit: all of them are killed when the bench exits. */
const children = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const child = spawn(options.command, options.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  track(child);
  // BENCH_SERVER_OUTPUT_DIR keeps what each server writes (e.g. its --trace-gc lines) in a file.
  const outputDir = process.env.BENCH_SERVER_OUTPUT_DIR;
  if (outputDir) {
    const file = createWriteStream(join(outputDir, `${options.name.replace(/\W+/g, '-')}-${child.pid}.log`));
    child.stdout.pipe(file);
    child.stderr.pipe(file);
  }
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined); // raced below; later errors show as an exit
  const ports: Record<string, number> = {};
  const wanted = options.listeners ?? [];

  const ready = new Promise<void>((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      reject(new Error(`${options.name} did not start within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      clearTimeout(grace);
      resolve();
    };
    void exitedPromise.then(() => {
      clearTimeout(timer);
      reject(
        new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) while starting\n${stderr}`),
      );
    });
    if (options.port !== undefined) {
      const port = options.port;
      let gone = false;
      void exitedPromise.then(() => (gone = true));
      spawnError.catch(() => (gone = true));
      const poll = async () => {
        // A server that could not start is not waited for (the polling kept the bench alive).
        while (!(await accepts(port))) {
          if (gone) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        ports.default = port;
        done();
      };
      void poll();
      return;
    }
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: { msg?: string; listener?: string; port?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg !== 'listening' || typeof entry.listener !== 'string' || typeof entry.port !== 'number')
        return;
      ports[entry.listener] = entry.port;
      if (wanted.every((name) => name in ports)) done();
      else grace ??= setTimeout(done, options.graceMs ?? 2_000);
    });
  });
  try {
    await Promise.race([ready, spawnError]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // Keep reading stdout so that a chatty server never blocks on a full pipe.
  child.stdout.resume();

  return {
    name: options.name,
    pid: child.pid!,
    ports,
    stderr: () => stderr,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Resident memory of a process, in KiB, from /proc/<pid>/status. */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}

/** How many files a process has open, and how many it may (its soft RLIMIT_NOFILE). */
export function fileDescriptors(pid: number | 'self'): { open: number; limit: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const limit = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? Number.NaN);
  return { open: readdirSync(`/proc/${pid}/fd`).length, limit };
}
