import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'main.js');

export interface RunningGateway {
  process: ChildProcess;
  apiPort: number;
  /** Bound port of every listener, by its name (api, mqtt, device-http, …). */
  ports: Record<string, number>;
  url: string;
  /** The port of the HTTP device API, and its base URL. */
  deviceHttpPort: number;
  deviceUrl: string;
  dataDir: string;
  /** Every stdout line so far, parsed when it is JSON. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  token: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Environment without any FLEETGATE_* setting of the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('FLEETGATE_')),
  );
  return { ...env, ...extra };
}

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'fleetgate-e2e-'));
}

/** Runs `fleetgate <args>` to completion. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  assertBuilt();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
}

/** Every listener on port 0, so that tests run side by side. */
const ANY_PORT = [
  '--api-port',
  '--mqtt-port',
  '--mqtts-port',
  '--device-http-port',
  '--device-https-port',
].flatMap((flag) => [flag, '0']);

/** Starts the real gateway process with every listener on port 0 and waits until it is ready. */
export function startGateway(
  options: { dataDir?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<RunningGateway> {
  assertBuilt();
  const dataDir = options.dataDir ?? newDataDir();
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', ...ANY_PORT, '--data-dir', dataDir, ...(options.args ?? [])],
    {
      env: cleanEnv(options.env),
    },
  );
  const logs: Record<string, unknown>[] = [];
  const ports: Record<string, number> = {};
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${stderr}`)), 15_000);
    void exited.then((code) => reject(new Error(`gateway exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { text: line };
      }
      logs.push(entry);
      if (entry.msg === 'listening') ports[entry.listener as string] = entry.port as number;
      if (entry.msg === 'ready') {
        clearTimeout(timer);
        const apiPort = ports.api!;
        resolve({
          process: child,
          apiPort,
          ports,
          deviceHttpPort: ports['device-http']!,
          deviceUrl: `http://127.0.0.1:${ports['device-http']}`,
          url: `http://127.0.0.1:${apiPort}`,
          dataDir,
          logs,
          stderr: () => stderr,
          token: () => readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(),
          stop(signal = 'SIGTERM') {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
  });
}
