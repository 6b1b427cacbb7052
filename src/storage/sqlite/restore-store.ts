import type Database from 'better-sqlite3';
import type {
  RestoreFileRecord,
  RestoreJob,
  RestoreStatus,
  RestoreStore,
  RestoreTaskRecord,
} from '../../core/restore-ports.js';
import { writeTransaction } from './open-database.js';
import { createRestoredDataWriter } from './restored-data.js';

interface TaskRow {
  seq: number;
  task_id: string;
  config: string;
  status: RestoreStatus;
  created_at: number;
  finished_at: number | null;
  total: number;
  done: number;
  failed: number;
}

interface FileRow {
  position: number;
  file_name: string;
  status: RestoreStatus;
  rows: number | null;
  read: number;
  samples: number;
  skipped: number;
  message: string | null;
  finished_at: number | null;
}

const TASKS = `SELECT t.*, count(f.position) AS total,
    coalesce(sum(f.status = 'done'), 0) AS done, coalesce(sum(f.status = 'failed'), 0) AS failed
  FROM restore_tasks t LEFT JOIN restore_files f ON f.task_seq = t.seq`;

const toTask = (r: TaskRow): RestoreTaskRecord => ({
  taskId: r.task_id,
  config: r.config,
  status: r.status,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
  total: r.total,
  done: r.done,
  failed: r.failed,
});

/** Restore tasks and restored data in SQLite (core/restore-ports.ts). */
export function createSqliteRestoreStore(db: Database.Database): RestoreStore {
  const data = createRestoredDataWriter(db);
  const seqOf = db.prepare<[string], number>('SELECT seq FROM restore_tasks WHERE task_id = ?').pluck();
  const task = db.prepare<[string], TaskRow>(`${TASKS} WHERE t.task_id = ? GROUP BY t.seq`);
  const progress = db.prepare(
    'UPDATE restore_files SET read = read + ?, samples = samples + ?, skipped = skipped + ? WHERE task_seq = ? AND position = ?',
  );
  const signal = db.prepare(
    'INSERT OR IGNORE INTO restore_file_signals (task_seq, position, identity, signal, resource) VALUES (?, ?, ?, ?, ?)',
  );

  function seq(taskId: string): number {
    const found = seqOf.get(taskId);
    if (found === undefined) throw new Error(`no restore task ${taskId}`);
    return found;
  }

  const create = writeTransaction(
    db,
    (taskId: string, config: string, at: number, files: { name: string; source: string }[]) => {
      const taskSeq = Number(
        db
          .prepare(
            "INSERT INTO restore_tasks (task_id, config, status, created_at) VALUES (?, ?, 'pending', ?)",
          )
          .run(taskId, config, at).lastInsertRowid,
      );
      const insert = db.prepare(
        "INSERT INTO restore_files (task_seq, position, file_name, source, status) VALUES (?, ?, ?, ?, 'pending')",
      );
      files.forEach((file, position) => insert.run(taskSeq, position, file.name, file.source));
    },
  );

  const next = writeTransaction(db, (): RestoreJob | undefined => {
    const row = db
      .prepare<
        [],
        { seq: number; task_id: string; config: string; position: number; file_name: string; source: string }
      >(
        `SELECT t.seq, t.task_id, t.config, f.position, f.file_name, f.source
         FROM restore_files f JOIN restore_tasks t ON t.seq = f.task_seq
         WHERE f.status = 'pending' ORDER BY f.task_seq, f.position LIMIT 1`,
      )
      .get();
    if (!row) return undefined;
    db.prepare("UPDATE restore_files SET status = 'running' WHERE task_seq = ? AND position = ?").run(
      row.seq,
      row.position,
    );
    db.prepare("UPDATE restore_tasks SET status = 'running' WHERE seq = ?").run(row.seq);
    return {
      taskId: row.task_id,
      position: row.position,
      fileName: row.file_name,
      source: row.source,
      config: row.config,
    };
  });

  const write = writeTransaction(
    db,
    (job: RestoreJob, rows: Parameters<typeof data.write>[0], until: number, read: number) => {
      const taskSeq = seq(job.taskId);
      const result = data.write(rows, until);
      progress.run(read, result.samples, result.skipped, taskSeq, job.position);
      for (const s of result.signals) signal.run(taskSeq, job.position, s.identity, s.signal, s.resource);
      return { samples: result.samples, skipped: result.skipped };
    },
  );

  const finish = writeTransaction(db, (job: RestoreJob, failure: string | undefined, at: number) => {
    const taskSeq = seq(job.taskId);
    db.prepare(
      'UPDATE restore_files SET status = ?, message = ?, finished_at = ? WHERE task_seq = ? AND position = ?',
    ).run(failure === undefined ? 'done' : 'failed', failure ?? null, at, taskSeq, job.position);
    db.prepare(
      `UPDATE restore_tasks SET finished_at = ?,
         status = CASE WHEN EXISTS (SELECT 1 FROM restore_files WHERE task_seq = seq AND status = 'failed')
           THEN 'failed' ELSE 'done' END
       WHERE seq = ? AND NOT EXISTS
         (SELECT 1 FROM restore_files WHERE task_seq = seq AND status IN ('pending', 'running'))`,
    ).run(at, taskSeq);
  });

  const retry = writeTransaction(db, (taskSeq: number) => {
    const { changes } = db
      .prepare(
        "UPDATE restore_files SET status = 'pending', message = NULL, finished_at = NULL WHERE task_seq = ? AND status = 'failed'",
      )
      .run(taskSeq);
    if (changes > 0)
      db.prepare("UPDATE restore_tasks SET status = 'pending', finished_at = NULL WHERE seq = ?").run(
        taskSeq,
      );
    return changes;
  });

  const expire = writeTransaction(db, (now: number) => data.expire(now));

  return {
    async create({ taskId, config, createdAt, files }) {
      create(taskId, config, createdAt, files);
    },
    async tasks() {
      return db.prepare<[], TaskRow>(`${TASKS} GROUP BY t.seq ORDER BY t.seq DESC`).all().map(toTask);
    },
    async task(taskId) {
      const row = task.get(taskId);
      return row && toTask(row);
    },
    async files(taskId) {
      const taskSeq = seqOf.get(taskId);
      if (taskSeq === undefined) return [];
      const signals = new Map<number, RestoreFileRecord['signals']>();
      for (const s of db
        .prepare<[number], { position: number; identity: string; signal: string; resource: string }>(
          'SELECT position, identity, signal, resource FROM restore_file_signals WHERE task_seq = ? ORDER BY position, identity, signal',
        )
        .all(taskSeq)) {
        let list = signals.get(s.position);
        if (!list) signals.set(s.position, (list = []));
        list.push({ identity: s.identity, signal: s.signal, resource: s.resource });
      }
      return db
        .prepare<[number], FileRow>('SELECT * FROM restore_files WHERE task_seq = ? ORDER BY position')
        .all(taskSeq)
        .map((f) => ({
          fileName: f.file_name,
          status: f.status,
          rows: f.rows,
          read: f.read,
          samples: f.samples,
          skipped: f.skipped,
          message: f.message,
          finishedAt: f.finished_at,
          signals: signals.get(f.position) ?? [],
        }));
    },
    async retry(taskId) {
      return retry(seq(taskId));
    },
    async requeue() {
      const { changes } = db
        .prepare("UPDATE restore_files SET status = 'pending' WHERE status = 'running'")
        .run();
      db.prepare("UPDATE restore_tasks SET status = 'pending' WHERE status = 'running'").run();
      return changes;
    },
    next: async () => next(),
    async opened(job, rows) {
      const taskSeq = seq(job.taskId);
      writeTransaction(db, () => {
        db.prepare(
          'UPDATE restore_files SET rows = ?, read = 0, samples = 0, skipped = 0, message = NULL WHERE task_seq = ? AND position = ?',
        ).run(rows, taskSeq, job.position);
        db.prepare('DELETE FROM restore_file_signals WHERE task_seq = ? AND position = ?').run(
          taskSeq,
          job.position,
        );
      })();
    },
    async write(job, rows, until, read) {
      try {
        return write(job, rows, until, read);
      } catch (error) {
        // Rolled back: tables the writer created in it are gone.
        data.reset();
        throw error;
      }
    },
    async finish(job, { failure }, at) {
      finish(job, failure, at);
    },
    expire: async (now) => expire(now),
  };
}
