import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createDevice2Client, type Device2Client } from 'fleetgate/client';
import { createFileArchive } from '../src/archive/archive-files.js';
import type { ArchiveRow } from '../src/core/archive-ports.js';
import {
  cleanEnv,
  newDataDir,
  runCli,
  startGateway,
  type RunningGateway,
} from './support/gateway-process.js';

const DAY_US = 86_400_000_000;
/** A UTC day some weeks back: within what publishData accepts, and not today. */
const dayStartUs = (daysAgo: number) => (Math.floor(Date.now() / 86_400_000) - daysAgo) * DAY_US;
const dayName = (us: number) => new Date(us / 1000).toISOString().slice(0, 10);

let gateway: RunningGateway | undefined;
afterEach(async () => {
  await gateway?.stop('SIGKILL');
  gateway = undefined;
});

async function start(dataDir?: string): Promise<Device2Client> {
  gateway = await startGateway(dataDir ? { dataDir } : {});
  return createDevice2Client({ url: gateway.url, token: gateway.token() });
}

describe('archive and restore through the real process', () => {
  it('fleetgate archive and fleetgate restore show progress and end with a summary', async () => {
    const api = await start();
    const day = dayStartUs(20);
    await api.addResource({ alias: 'temp', format: 'number' });
    for (const identity of ['cli-1', 'cli-2']) {
      await api.addIdentity({ identity });
      await api.publishData({
        identity,
        payload: Array.from({ length: 1000 }, (_, i) => ({
          timestamp: day + i * 60_000_000,
          values: { temp: i },
        })),
      });
    }
    const env = cleanEnv();
    const { dataDir, url } = gateway!;
    const token = gateway!.token();
    const archived = await runCli(['archive', '--day', dayName(day), '--data-dir', dataDir], env);
    expect(archived.stderr).toBe('');
    expect(archived.code).toBe(0);
    expect(archived.stdout).toContain(`archive ${dayName(day)}: 0% 0/2,000 samples\n`);
    expect(archived.stdout).toContain(`archived ${dayName(day)}: 2,000 samples in 1 file`);
    const file = join(
      dataDir,
      'archive',
      dayName(day).slice(0, 4),
      dayName(day).slice(5, 7),
      `${dayName(day)}.r12.ndjson.gz`,
    );
    expect(archived.stdout).toContain(`${file}  2,000 rows`);
    expect(existsSync(`${file}.sha256`)).toBe(true);

    const restored = await runCli(
      [
        'restore',
        '--from',
        dayName(day),
        '--retention',
        '3',
        '--url',
        url,
        '--token',
        token,
        '--interval',
        '50',
      ],
      env,
    );
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/^restore task [0-9a-f-]{36}: 1 file\n/);
    expect(restored.stdout).toContain(
      `done    ${dayName(day).slice(0, 4)}/${dayName(day).slice(5, 7)}/${dayName(day)}.r12.ndjson.gz: 2,000 samples\n`,
    );
    expect(restored.stdout).toMatch(/: 1 of 1 files restored; 2,000 samples of 2 signals in /);

    const failed = await runCli(
      [
        'restore',
        'file:///no/such/2020-01-01.r12.ndjson.gz',
        '--url',
        url,
        '--token',
        token,
        '--interval',
        '50',
      ],
      env,
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(
      'failed  file:///no/such/2020-01-01.r12.ndjson.gz: file not found: file:///no/such',
    );
    expect(failed.stdout).toMatch(/retry them with: fleetgate restore --retry [0-9a-f-]{36}\n/);

    const refused = await runCli(['restore', '--from', '2023-02-30', '--url', url, '--token', token], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('fleetgate restore: 400 parameter "start_date"');
    expect((await runCli(['archive'], env)).code).toBe(2);
    expect((await runCli(['archive', '--day', 'today', '--data-dir', dataDir], env)).code).toBe(2);
  }, 60_000);

  it('finishes a restore after the process is killed in the middle of it, without duplicates', async () => {
    const DAYS = 8;
    const SIGNALS = 10;
    const PER_SIGNAL = 10_000;
    const dir = join(newDataDir(), 'incoming');
    const files = createFileArchive({ dir, urlTimeoutMs: 5000 });
    const days = Array.from({ length: DAYS }, (_, d) => dayStartUs(40 - d));
    const urls: string[] = [];
    for (const day of days) {
      async function* rows(): AsyncGenerator<ArchiveRow[]> {
        for (let s = 0; s < SIGNALS; s++)
          yield Array.from({ length: PER_SIGNAL }, (_, i): ArchiveRow => {
            const at = day + i * 8_640_000;
            return ['crash', `s${s}`, `s${s}`, at, at + 5, i % 100];
          });
      }
      const file = await files.writeDay(dayName(day), 12, rows());
      urls.push(pathToFileURL(file.path).href);
    }
    let api = await start();
    for (let s = 0; s < SIGNALS; s++) await api.addResource({ alias: `s${s}`, format: 'number' });
    await api.addIdentity({ identity: 'crash' });
    const { task_id, total } = await api.restoreUrl({ urls, retention: '12' });
    expect(total).toBe(DAYS);
    // Killed while a file is half restored: some of its batches are committed, the rest not.
    await expect
      .poll(
        async () =>
          (await api.getRestoreTaskStatus({ task_id })).some((f) => f.status === 'running' && f.samples > 0),
        { timeout: 30_000, interval: 10 },
      )
      .toBe(true);
    expect(await gateway!.stop('SIGKILL')).toBe(null);

    api = await start(gateway!.dataDir);
    await expect
      .poll(async () => (await api.getRestoreStatus({}))[0]!.status, { timeout: 60_000, interval: 100 })
      .toBe('done');
    const status = await api.getRestoreTaskStatus({ task_id });
    expect(status.map((f) => [f.status, f.samples])).toEqual(days.map(() => ['done', SIGNALS * PER_SIGNAL]));
    const counts = await api.aggrquerySignal({
      identity: 'crash',
      signal: 's3',
      bucket: '1h',
      start_time: days[0]! / 1e6,
      end_time: (days[DAYS - 1]! + DAY_US) / 1e6,
      limit: 10_000,
      fields: ['count'],
    });
    let samples = 0;
    for (const item of counts.data)
      if ('count' in item && typeof item.count === 'number') samples += item.count;
    expect(samples).toBe(DAYS * PER_SIGNAL);
  }, 120_000);
});

describe('retention in the real process', () => {
  it('archives a partition that has aged out when the gateway starts, then drops it', async () => {
    let api = await start();
    // Retention 0: a month's samples go once the month is over.
    await api.addResource({ alias: 'brief', format: 'number', retention: '0' });
    await api.addIdentity({ identity: 'aging' });
    const now = new Date();
    const lastMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 3) * 1000;
    await api.publishData({ identity: 'aging', payload: [{ timestamp: lastMonth, values: { brief: 42 } }] });
    const window = {
      identity: 'aging',
      signal: 'brief',
      start_time: lastMonth / 1e6 - 1,
      end_time: lastMonth / 1e6 + 1,
    };
    const { dataDir } = gateway!;
    expect(await gateway!.stop('SIGTERM')).toBe(0);
    api = await start(dataDir);
    // Set aside (out of the queries) first, then archived, then dropped.
    await expect
      .poll(() => gateway!.logs.some((l) => l.msg === 'partition dropped'), { timeout: 20_000 })
      .toBe(true);
    expect((await api.querySignal(window)).data).toEqual([]);
    const day = dayName(lastMonth);
    const file = join(dataDir, 'archive', day.slice(0, 4), day.slice(5, 7), `${day}.r0.ndjson.gz`);
    expect(existsSync(file) && existsSync(`${file}.sha256`)).toBe(true);
    expect(gateway!.logs.some((l) => l.msg === 'archive file written' && l.rows === 1)).toBe(true);
    await api.restoreTime({ start_date: day, end_date: day });
    await expect
      .poll(async () => (await api.querySignal(window)).data.map((d) => 'value' in d && d.value), {
        timeout: 20_000,
      })
      .toEqual([42]);
  }, 60_000);
});
