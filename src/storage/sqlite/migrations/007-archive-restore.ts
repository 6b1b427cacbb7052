/**
 * Archive and restore (docs/archive.md).
 *
 * - `archive_seals`: partitions that retention set aside to be archived. Sealing renames a
 *   partition's samples table out of `sample_partitions` (so late samples of that month start a
 *   new partition instead of landing in one being archived); the sealed table is dropped once
 *   every day of it is in a verified archive file. `archive_seal_days` records the days done, so
 *   that archiving resumes where a crash left it.
 * - `restored_partitions`: samples brought back from archive files live in tables of their own, one
 *   per UTC month (`restored_<YYYYMM>`, with `restored_rollups_<YYYYMM>`), each kept until
 *   `expires_us`. Queries read them through the `readable_partitions` view, with the live ones.
 * - `restore_tasks`, `restore_files`, `restore_file_signals`: restore tasks, their files and what
 *   each file restored.
 */
export const sql = `
CREATE TABLE archive_seals (
  id         INTEGER PRIMARY KEY,
  retention  INTEGER NOT NULL,
  month      INTEGER NOT NULL,        -- YYYYMM, UTC
  table_name TEXT    NOT NULL UNIQUE, -- the sealed samples
  start_us   INTEGER NOT NULL,
  end_us     INTEGER NOT NULL,
  sealed_at  INTEGER NOT NULL         -- server µs
);
CREATE TABLE archive_seal_days (
  seal_id INTEGER NOT NULL REFERENCES archive_seals (id) ON DELETE CASCADE,
  day     TEXT    NOT NULL,           -- YYYY-MM-DD whose file holds the seal's samples of that day
  PRIMARY KEY (seal_id, day)
) WITHOUT ROWID;

CREATE TABLE restored_partitions (
  month        INTEGER PRIMARY KEY,   -- YYYYMM, UTC
  table_name   TEXT    NOT NULL UNIQUE,
  rollup_table TEXT    NOT NULL UNIQUE,
  start_us     INTEGER NOT NULL,
  end_us       INTEGER NOT NULL,
  expires_us   INTEGER NOT NULL       -- dropped from then on
);
CREATE VIEW readable_partitions AS
  SELECT retention, month, table_name, rollup_table, start_us, end_us FROM sample_partitions
  UNION ALL
  SELECT -1, month, table_name, rollup_table, start_us, end_us FROM restored_partitions;

CREATE TABLE restore_tasks (
  seq         INTEGER PRIMARY KEY,     -- creation order
  task_id     TEXT    NOT NULL UNIQUE,
  config      TEXT    NOT NULL,        -- JSON: the parameters, defaults filled in
  status      TEXT    NOT NULL,        -- pending, running, done, failed
  created_at  INTEGER NOT NULL,        -- server µs
  finished_at INTEGER
);
CREATE TABLE restore_files (
  task_seq    INTEGER NOT NULL REFERENCES restore_tasks (seq) ON DELETE CASCADE,
  position    INTEGER NOT NULL,
  file_name   TEXT    NOT NULL,        -- as answered: the archive's relative path, or the URL
  source      TEXT    NOT NULL,        -- what is read: an absolute path or a URL
  status      TEXT    NOT NULL,        -- pending, running, done, failed
  rows        INTEGER,                 -- rows of the file, once opened
  read        INTEGER NOT NULL DEFAULT 0, -- rows read so far
  samples     INTEGER NOT NULL DEFAULT 0, -- rows restored (those matching the task's filters)
  skipped     INTEGER NOT NULL DEFAULT 0,
  message     TEXT,
  finished_at INTEGER,
  PRIMARY KEY (task_seq, position)
) WITHOUT ROWID;
CREATE INDEX restore_files_by_status ON restore_files (status, task_seq, position);
CREATE TABLE restore_file_signals (
  task_seq INTEGER NOT NULL,
  position INTEGER NOT NULL,
  identity TEXT    NOT NULL,
  signal   TEXT    NOT NULL,
  resource TEXT    NOT NULL,
  PRIMARY KEY (task_seq, position, identity, signal),
  FOREIGN KEY (task_seq, position) REFERENCES restore_files (task_seq, position) ON DELETE CASCADE
) WITHOUT ROWID;
`;
