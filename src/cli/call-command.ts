import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../config/admin-token.js';
import { createDevice2Client, Device2Error } from '../client/device2-client.js';

export const CALL_USAGE = `usage: fleetgate call <operation> [json | -] [--url URL] [--token TOKEN]
  Calls a running gateway and prints the JSON answer. The parameters are a JSON object,
  given inline or on standard input with "-". The URL defaults to FLEETGATE_API_URL or
  http://127.0.0.1:<FLEETGATE_API_PORT or 8080>; the token to FLEETGATE_ADMIN_TOKEN or the
  admin-token file in FLEETGATE_DATA_DIR (./data).`;

export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => string;
}

/** Removes `--name value` or `--name=value` from args; its value. */
export function option(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const [arg] = args.splice(i, 1);
  return arg!.includes('=') ? arg!.slice(name.length + 1) : args.splice(i, 1)[0];
}

export function adminToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.FLEETGATE_ADMIN_TOKEN) return env.FLEETGATE_ADMIN_TOKEN;
  try {
    return readFileSync(join(env.FLEETGATE_DATA_DIR ?? './data', ADMIN_TOKEN_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The gateway a CLI command talks to (`--url`, `--token`, else the environment); removed from args. */
export function apiTarget(
  args: string[],
  env: NodeJS.ProcessEnv,
): { url: string; token: string | undefined } {
  const url =
    option(args, '--url') ?? env.FLEETGATE_API_URL ?? `http://127.0.0.1:${env.FLEETGATE_API_PORT ?? 8080}`;
  return { url, token: option(args, '--token') ?? adminToken(env) };
}

export const noTokenMessage = (command: string) =>
  `fleetgate ${command}: no admin token: set FLEETGATE_ADMIN_TOKEN, pass --token, or run from the gateway directory`;

/** `fleetgate call`: returns the process exit code. */
export async function runCall(argv: string[], io: Io): Promise<number> {
  const args = [...argv];
  const { url, token } = apiTarget(args, io.env);
  const [operation, json, ...rest] = args;
  if (!operation || rest.length > 0 || operation.startsWith('-')) {
    io.stderr(CALL_USAGE);
    return 2;
  }
  if (!token) {
    io.stderr(noTokenMessage('call'));
    return 2;
  }
  let params: unknown = {};
  try {
    const text = json === '-' ? io.readStdin() : json;
    if (text !== undefined && text.trim() !== '') params = JSON.parse(text);
  } catch {
    io.stderr('fleetgate call: the parameters are not valid JSON');
    return 2;
  }
  try {
    const result = await createDevice2Client({ url, token }).call(operation, params);
    if (result !== undefined) io.stdout(JSON.stringify(result, null, 2));
    return 0;
  } catch (error) {
    if (error instanceof Device2Error)
      io.stderr(`fleetgate call ${operation}: ${error.status} ${error.message}`);
    else io.stderr(`fleetgate call ${operation}: cannot reach ${url} (${(error as Error).message})`);
    return 1;
  }
}
