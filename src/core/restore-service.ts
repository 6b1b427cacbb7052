import { randomUUID } from 'node:crypto';
import { DAY_US, parseDay } from './archive-day.js';
import type { ArchiveFiles } from './archive-ports.js';
import type { Clock } from './clock.js';
import { invalidParameter } from './errors.js';
import type { RestoreStore } from './restore-ports.js';
import type { RestoreConfig } from './restore-runner.js';
import type {
  RestoreFileStatus,
  RestoreTaskSummary,
  RestoreTimeParams,
  RestoreUrlParams,
  TaskIdParams,
} from './schemas/restore.js';
import { isoMicros } from './time-series-query.js';

/** Longest range of restoreTime, in days: ten years. */
const MAX_DAYS = 3660;
const SCHEMES = ['file:', 'http:', 'https:'];

const unknownTask = (taskId: string) => invalidParameter('task_id', `no restore task "${taskId}"`);

/**
 * The data-restore operations (restoreTime, restoreUrl, getRestoreStatus, getRestoreTaskStatus,
 * retryRestoreTask; docs/archive.md). Creating a task lists its files and stores it in one step,
 * then wakes the runner: the answer does not wait for any file.
 */
export class RestoreService {
  constructor(
    private readonly deps: {
      store: RestoreStore;
      files: ArchiveFiles;
      clock: Clock;
      runner: { wake(): void };
      newId?: () => string;
    },
  ) {}

  async restoreTime(params: RestoreTimeParams) {
    const from = parseDay(params.start_date, 'start_date');
    const to = parseDay(params.end_date, 'end_date');
    if (to < from)
      throw invalidParameter('end_date', `${params.end_date} is before start_date ${params.start_date}`);
    if ((to - from) / DAY_US >= MAX_DAYS)
      throw invalidParameter('end_date', `a restore spans at most ${MAX_DAYS} days`);
    const files = await this.deps.files.list(params.start_date, params.end_date);
    if (files.length === 0)
      throw invalidParameter('start_date', `no archive file from ${params.start_date} to ${params.end_date}`);
    return this.create(
      {
        type: 'time',
        start_date: params.start_date,
        end_date: params.end_date,
        ...this.common(params),
      },
      files.map((file) => ({ name: file.name, source: file.path })),
    );
  }

  async restoreUrl(params: RestoreUrlParams) {
    params.urls.forEach((text, i) => {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw invalidParameter(`urls[${i}]`, `"${text}" is not a URL`);
      }
      if (!SCHEMES.includes(url.protocol))
        throw invalidParameter(
          `urls[${i}]`,
          `must be a file://, http:// or https:// URL, not ${url.protocol}//`,
        );
      if (url.protocol === 'file:' && url.hostname !== '' && url.hostname !== 'localhost')
        throw invalidParameter(`urls[${i}]`, 'a file:// URL names a file of this host (file:///path)');
    });
    return this.create(
      { type: 'url', urls: params.urls, ...this.common(params) },
      params.urls.map((url) => ({ name: url, source: url })),
    );
  }

  private common(params: RestoreTimeParams | RestoreUrlParams) {
    return {
      ...(params.identities && { identities: params.identities }),
      ...(params.signals && { signals: params.signals }),
      retention: params.retention ?? '0',
      ...(params.note !== undefined && { note: params.note }),
    } satisfies Omit<RestoreConfig, 'type'> & { note?: string };
  }

  private async create(
    config: RestoreConfig & Record<string, unknown>,
    files: { name: string; source: string }[],
  ) {
    const taskId = (this.deps.newId ?? randomUUID)();
    await this.deps.store.create({
      taskId,
      config: JSON.stringify(config),
      createdAt: this.deps.clock.nowMicros(),
      files,
    });
    this.deps.runner.wake();
    return { task_id: taskId, total: files.length };
  }

  async getRestoreStatus(): Promise<RestoreTaskSummary[]> {
    return (await this.deps.store.tasks()).map((task) => ({
      task_id: task.taskId,
      status: task.status,
      total: task.total,
      done: task.done,
      failed: task.failed,
      config: task.config,
      created_at: isoMicros(task.createdAt),
      finished_at: task.finishedAt === null ? null : isoMicros(task.finishedAt),
    }));
  }

  async getRestoreTaskStatus({ task_id }: TaskIdParams): Promise<RestoreFileStatus[]> {
    if (!(await this.deps.store.task(task_id))) throw unknownTask(task_id);
    return (await this.deps.store.files(task_id)).map((file) => ({
      file_name: file.fileName,
      status: file.status,
      finished_at: file.finishedAt === null ? null : isoMicros(file.finishedAt),
      signals: file.signals.map((s) => ({ device: s.identity, signal: s.signal, resource: s.resource })),
      rows: file.rows,
      read: file.read,
      samples: file.samples,
      skipped: file.skipped,
      ...(file.message !== null && { message: file.message }),
    }));
  }

  async retryRestoreTask({ task_id }: TaskIdParams) {
    if (!(await this.deps.store.task(task_id))) throw unknownTask(task_id);
    const files = await this.deps.store.retry(task_id);
    if (files === 0)
      throw invalidParameter('task_id', `restore task "${task_id}" has no failed file to retry`);
    this.deps.runner.wake();
    return { message: `retrying ${files} failed file${files === 1 ? '' : 's'} of restore task ${task_id}` };
  }
}
