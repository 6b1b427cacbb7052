import { setTimeout as sleep } from 'node:timers/promises';
import { createDevice2Client, Device2Error, type Device2Client } from '../client/device2-client.js';
import type { RestoreFileStatus } from '../core/schemas/restore.js';
import type { CliIo } from './archive-command.js';
import { apiTarget, noTokenMessage, option } from './call-command.js';
import { count, duration, Progress } from './progress.js';

export const RESTORE_USAGE = `usage: fleetgate restore --from YYYY-MM-DD [--to YYYY-MM-DD] [filters]  restore archived days
       fleetgate restore URL ... [filters]    restore daily archive files (file://, http://, https://)
       fleetgate restore --task TASK_ID       follow a restore task
       fleetgate restore --retry TASK_ID      restore the failed files of a task again, and follow it
  filters: --identities ID,ID  --signals NAME,NAME  --retention 0|3|6|12|36|60|120 (default 0:
  kept 7 days)  --note TEXT
  A progress bar follows the task to its end, then a summary is printed; the exit code is 1 when
  a file failed. --no-wait prints the task id and returns at once; --interval MS sets how often
  the task is polled (500). The gateway is reached as by fleetgate call (--url, --token).`;

const list = (text: string | undefined) => text?.split(',').map((item) => item.trim());

interface Watch {
  client: Device2Client;
  taskId: string;
  intervalMs: number;
  io: CliIo;
}

/** How far a task is: finished files whole, the running one by the rows it has read. */
function fraction(files: RestoreFileStatus[]): number {
  let done = 0;
  for (const file of files) {
    if (file.status === 'done' || file.status === 'failed') done += 1;
    else if (file.status === 'running' && file.rows) done += Math.min(1, file.read / file.rows);
  }
  return files.length === 0 ? 1 : done / files.length;
}

/** Polls the task until no file is pending or running; the exit code. */
async function watch({ client, taskId, intervalMs, io }: Watch): Promise<number> {
  const started = performance.now();
  const progress = new Progress(io.stdout, 'restore');
  const reported = new Set<number>();
  let files: RestoreFileStatus[];
  for (;;) {
    files = await client.getRestoreTaskStatus({ task_id: taskId });
    files.forEach((file, i) => {
      if (reported.has(i) || (file.status !== 'done' && file.status !== 'failed')) return;
      reported.add(i);
      progress.log(
        file.status === 'done'
          ? `done    ${file.file_name}: ${count(file.samples)} samples`
          : `failed  ${file.file_name}: ${file.message ?? 'no reason given'}`,
      );
    });
    const finished = reported.size;
    const samples = files.reduce((sum, f) => sum + f.samples, 0);
    progress.update(fraction(files), `${finished}/${files.length} files, ${count(samples)} samples`);
    if (finished === files.length) break;
    await sleep(intervalMs);
  }
  progress.end();
  const elapsed = performance.now() - started;
  const failed = files.filter((f) => f.status === 'failed');
  const samples = files.reduce((sum, f) => sum + f.samples, 0);
  const signals = new Set(files.flatMap((f) => f.signals.map((s) => `${s.device}/${s.signal}`)));
  io.stdout.write(
    `restore task ${taskId}: ${files.length - failed.length} of ${files.length} files restored` +
      `${failed.length > 0 ? `, ${failed.length} failed` : ''}; ${count(samples)} samples of ${signals.size} signals` +
      ` in ${duration(elapsed)} (${count((samples / elapsed) * 1000)} samples/s)\n`,
  );
  if (failed.length > 0) {
    for (const file of failed) io.stdout.write(`  failed ${file.file_name}: ${file.message ?? ''}\n`);
    io.stdout.write(`retry them with: fleetgate restore --retry ${taskId}\n`);
  }
  return failed.length > 0 ? 1 : 0;
}

/** `fleetgate restore`: returns the process exit code. */
export async function runRestore(argv: string[], io: CliIo): Promise<number> {
  const args = [...argv];
  const { url, token } = apiTarget(args, io.env);
  const from = option(args, '--from');
  const to = option(args, '--to');
  const task = option(args, '--task');
  const retry = option(args, '--retry');
  const identities = list(option(args, '--identities'));
  const signals = list(option(args, '--signals'));
  const retention = option(args, '--retention');
  const note = option(args, '--note');
  const interval = Number(option(args, '--interval') ?? 500);
  const noWait = args.includes('--no-wait');
  const urls = args.filter((arg) => arg !== '--no-wait');
  const modes = [from !== undefined, urls.length > 0, task !== undefined, retry !== undefined].filter(
    Boolean,
  );
  if (
    modes.length !== 1 ||
    urls.some((u) => u.startsWith('-')) ||
    !(interval > 0) ||
    (to !== undefined && from === undefined)
  ) {
    io.stderr(RESTORE_USAGE);
    return 2;
  }
  if (!token) {
    io.stderr(noTokenMessage('restore'));
    return 2;
  }
  const client = createDevice2Client({ url, token });
  const filters = {
    ...(identities && { identities }),
    ...(signals && { signals }),
    ...(retention !== undefined && { retention }),
    ...(note !== undefined && { note }),
  };
  try {
    let taskId: string;
    if (task !== undefined || retry !== undefined) {
      taskId = (task ?? retry)!;
      if (retry !== undefined)
        io.stdout.write(`${(await client.retryRestoreTask({ task_id: taskId })).message}\n`);
      else await client.getRestoreTaskStatus({ task_id: taskId });
    } else {
      const created = (
        from !== undefined
          ? await client.call('restoreTime', { start_date: from, end_date: to ?? from, ...filters })
          : await client.call('restoreUrl', { urls, ...filters })
      ) as { task_id: string; total: number };
      taskId = created.task_id;
      if (noWait) {
        io.stdout.write(`${taskId}\n`);
        return 0;
      }
      io.stdout.write(`restore task ${taskId}: ${created.total} file${created.total === 1 ? '' : 's'}\n`);
    }
    return await watch({ client, taskId, intervalMs: interval, io });
  } catch (error) {
    if (error instanceof Device2Error) io.stderr(`fleetgate restore: ${error.status} ${error.message}`);
    else io.stderr(`fleetgate restore: cannot reach ${url} (${(error as Error).message})`);
    return 1;
  }
}
