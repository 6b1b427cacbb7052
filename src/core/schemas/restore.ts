import { Type, type Static } from '@sinclair/typebox';
import { IdentityString } from './common.js';
import { SignalString } from './time-series.js';

const strict = { additionalProperties: false } as const;

const DateString = (description: string) =>
  Type.String({
    pattern: '^\\d{4}-\\d{2}-\\d{2}$',
    description: `${description} (ISO 8601 YYYY-MM-DD, UTC).`,
  });

export const RESTORE_RETENTIONS = ['0', '3', '6', '12', '36', '60', '120'] as const;
export type RestoreRetention = (typeof RESTORE_RETENTIONS)[number];

const filters = {
  identities: Type.Optional(
    Type.Array(IdentityString, {
      minItems: 1,
      maxItems: 1000,
      uniqueItems: true,
      description: 'Only the samples of these devices; without it, every device.',
    }),
  ),
  signals: Type.Optional(
    Type.Array(SignalString, {
      minItems: 1,
      maxItems: 1000,
      uniqueItems: true,
      description: 'Only these signals (or resources); without it, every signal.',
    }),
  ),
  retention: Type.Optional(
    Type.Union(
      RESTORE_RETENTIONS.map((r) => Type.Literal(r)),
      {
        description:
          'Months the restored data stays, counted from the restore; "0" is a temporary restore, kept 7 days. Default: "0".',
      },
    ),
  ),
  note: Type.Optional(Type.String({ maxLength: 1024, description: 'Note for the restore task.' })),
};

export const RestoreTimeParams = Type.Object(
  {
    start_date: DateString('First day to restore'),
    end_date: DateString('Last day to restore, included'),
    ...filters,
  },
  strict,
);
export type RestoreTimeParams = Static<typeof RestoreTimeParams>;

export const RestoreUrlParams = Type.Object(
  {
    urls: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), {
      minItems: 1,
      maxItems: 1000,
      uniqueItems: true,
      description: 'Daily archive files: file://, http:// or https:// URLs.',
    }),
    ...filters,
  },
  strict,
);
export type RestoreUrlParams = Static<typeof RestoreUrlParams>;

export const RestoreTaskCreated = Type.Object({
  task_id: Type.String({ description: 'Unique task id.' }),
  total: Type.Integer({ description: 'Number of files to restore in this task.' }),
});

export const TaskIdParams = Type.Object(
  { task_id: Type.String({ minLength: 1, maxLength: 64, description: 'Restore task id.' }) },
  strict,
);
export type TaskIdParams = Static<typeof TaskIdParams>;

const Status = Type.Union(
  [Type.Literal('pending'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')],
  {
    description:
      'pending: waiting; running: being restored; done: every file restored; failed: finished, with at least one file failed.',
  },
);

const When = (description: string) =>
  Type.Union([Type.String({ description: `${description}: 2024-07-29T07:40:00.123456Z.` }), Type.Null()]);

export const RestoreTaskSummary = Type.Object({
  task_id: Type.String(),
  status: Status,
  total: Type.Integer({ description: 'Files to restore.' }),
  done: Type.Integer({ description: 'Files restored.' }),
  failed: Type.Integer({ description: 'Files that failed.' }),
  config: Type.String({ description: 'The task parameters (JSON), defaults filled in.' }),
  created_at: Type.String({ description: 'Task created: 2024-07-29T07:40:00.123456Z.' }),
  finished_at: When('Task completed; null while it is not'),
});
export type RestoreTaskSummary = Static<typeof RestoreTaskSummary>;

export const GetRestoreStatusParams = Type.Object({}, strict);
export const GetRestoreStatusResult = Type.Array(RestoreTaskSummary, { description: 'Newest task first.' });

export const RestoreFileStatus = Type.Object({
  file_name: Type.String({ description: 'The archive file (its path in the archive) or the URL.' }),
  status: Status,
  finished_at: When('File finished; null while it is not'),
  signals: Type.Array(
    Type.Object({ device: Type.String(), signal: Type.String(), resource: Type.String() }),
    { description: 'Signals restored from the file.' },
  ),
  rows: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Samples in the file (its header); null until it is opened.',
  }),
  read: Type.Integer({ description: 'Samples of the file read so far.' }),
  samples: Type.Integer({ description: 'Samples restored so far (those matching the task filters).' }),
  skipped: Type.Integer({ description: 'Samples skipped: their device no longer exists.' }),
  message: Type.Optional(Type.String({ description: 'Why the file failed.' })),
});
export type RestoreFileStatus = Static<typeof RestoreFileStatus>;

export const GetRestoreTaskStatusResult = Type.Array(RestoreFileStatus, {
  description: 'One entry per file, in the order of the task.',
});

export const RetryRestoreTaskResult = Type.Object({ message: Type.String() });
