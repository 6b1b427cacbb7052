import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Generator } from './generators.js';
import type { Tally } from './mqtt-load.js';
import { addDevices, startFleetgate } from './fleetgate-process.js';
import { startServer, type ServerProcess } from './server-process.js';
import { percentile, processCpuMs } from './stats.js';

export interface PartContext {
  root: string;
  generators: Generator[];
  warmupMs: number;
  durationMs: number;
  /** Timed parts measure every server this many times, in turn. */
  rounds: number;
  log(text: string): void;
}

export interface PartReport {
  title: string;
  /** Markdown: a table and the lines that go with it. */
  lines: string[];
  /** A target was missed, or a server failed. */
  failed: boolean;
}

export const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
export const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
export const yesNo = (met: boolean) => (met ? 'yes' : '**no**');

/** A markdown table whose first and last columns are text, the others numbers (right-aligned). */
export function table(header: string[], rows: string[][]): string[] {
  const align = header.map((_, i) => (i === 0 || i === header.length - 1 ? '---' : '---:'));
  return [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Sums the per-second counts of several generators. */
export function addSeconds(lists: number[][]): number[] {
  const length = Math.max(0, ...lists.map((l) => l.length));
  return Array.from({ length }, (_, i) => lists.reduce((sum, l) => sum + (l[i] ?? 0), 0));
}

export function secondsSpread(perSecond: number[]): string {
  if (perSecond.length === 0) return '–';
  return `${int(Math.min(...perSecond))} / ${int(percentile(perSecond, 50))} / ${int(Math.max(...perSecond))}`;
}

export function mergeFailures(tallies: Tally[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const tally of tallies)
    for (const [reason, count] of Object.entries(tally.failures))
      merged[reason] = (merged[reason] ?? 0) + count;
  return merged;
}

export function describeFailures(failures: Record<string, number>): string {
  return Object.entries(failures)
    .map(([reason, count]) => `${reason} ×${int(count)}`)
    .join(', ');
}

/** A server's CPU time between two epoch times, in ms, read by timers while the load runs. */
export function serverCpuWindow(pid: number, from: number, until: number): () => number {
  let start = Number.NaN;
  let used = Number.NaN;
  const now = () => performance.timeOrigin + performance.now();
  const first = setTimeout(() => (start = processCpuMs(pid)), Math.max(0, from - now()));
  const last = setTimeout(() => (used = processCpuMs(pid) - start), Math.max(0, until - now()));
  return () => {
    clearTimeout(first);
    clearTimeout(last);
    // The load may end a moment before the last timer fires.
    if (Number.isNaN(used)) used = processCpuMs(pid) - start;
    return used;
  };
}

/** A server under test, ready: the port the load goes to, and how to get rid of it. */
export interface Target {
  server: ServerProcess;
  port: number;
  close(): Promise<void>;
  /** fleetgate only: adds identities dev-0 … dev-(count-1); resolves to the addIdentity rate. */
  addDevices?(count: number): Promise<number>;
}

/** One of the bench's reference servers (bench/bare-*.ts), in its own Node.js process. */
export async function bareTarget(root: string, script: string, listener: string): Promise<Target> {
  const server = await startServer({
    name: script,
    command: process.execPath,
    // BENCH_BARE_NODE_ARGS: what BENCH_GATEWAY_NODE_ARGS is to fleetgate (e.g. --trace-gc-nvp).
    args: [
      ...(process.env.BENCH_BARE_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      join(root, 'bench', script),
    ],
    cwd: root,
    listeners: [listener],
  });
  return { server, port: server.ports[listener]!, close: () => server.stop() };
}

/** The built gateway with `devices` token identities (dev-0 …), measured on its `listener`. */
export async function fleetgateTarget(root: string, listener: string, devices: number): Promise<Target> {
  const gateway = await startFleetgate(root);
  try {
    const port = gateway.ports[listener];
    if (port === undefined)
      throw new Error(
        `this build has no \`${listener}\` listener (the gateway logged no \`listening\` line for it)`,
      );
    if (devices > 0) await addDevices(gateway, devices);
    return {
      server: gateway,
      port,
      close: () => gateway.close(),
      addDevices: (count) => addDevices(gateway, count),
    };
  } catch (error) {
    await gateway.close();
    throw error;
  }
}

/**
 * Starts a target, measures it and closes it whatever happens. A failure is logged and returned
 * as the message the report shows, so that one broken server does not hide the others' numbers.
 */
export async function runTarget<M>(
  context: PartContext,
  label: string,
  start: () => Promise<Target>,
  measure: (target: Target) => Promise<M>,
): Promise<M | string> {
  context.log(`${label}…`);
  let target: Target | undefined;
  try {
    target = await start();
    return await measure(target);
  } catch (error) {
    const message = `${label} failed: ${(error as Error).message}`;
    context.log(message);
    return message;
  } finally {
    await target?.close();
  }
}

/** The mosquitto binary: BENCH_MOSQUITTO, or the first on PATH, /usr/sbin or /usr/local/sbin. */
export function findMosquitto(): string | undefined {
  if (process.env.BENCH_MOSQUITTO) return process.env.BENCH_MOSQUITTO;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  return dirs
    .filter(Boolean)
    .map((dir) => join(dir, 'mosquitto'))
    .find((path) => existsSync(path));
}

export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
