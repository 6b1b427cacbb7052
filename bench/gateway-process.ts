import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningGateway {
  port: number;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the built gateway (`dist/src/main.js serve`) on an ephemeral port, exactly as a user
 * would, and resolves once it logs that the API listener is bound.
 */
export async function startGateway(
  root: string,
  dataDir: string,
  timeoutMs = 20_000,
  /** Every JSON log line of the gateway. */
  onLog?: (entry: Record<string, unknown>) => void,
): Promise<RunningGateway> {
  // BENCH_GATEWAY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the gateway.
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      join(root, 'dist/src/main.js'),
      'serve',
      '--api-port',
      '0',
      '--mqtt-port',
      '0',
      '--mqtts-port',
      '0',
      '--device-http-port',
      '0',
      '--device-https-port',
      '0',
      '--data-dir',
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not report listening within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; listener?: string; port?: number };
        onLog?.(entry);
        if (entry.msg === 'listening' && entry.listener === 'api' && typeof entry.port === 'number') {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening\n${stderr}`));
    });
  });
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();

  return {
    port,
    token,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
