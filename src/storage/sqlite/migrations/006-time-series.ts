/**
 * Time series (docs/time-series.md).
 *
 * - Partitions become per retention class and UTC month: a resource keeping R months writes into
 *   `samples_r<R>_<YYYYMM>`, so that retention drops whole tables. The month tables of migration 3
 *   (`samples_YYYYMM`, written under the default retention) become class 12 under their names.
 * - Each partition has a rollup table (`rollups_r<R>_<YYYYMM>`, created with it and dropped with
 *   it): count/sum/min/max per (identity, signal, width, bucket). The partitions of migration 3 have
 *   none yet: the adapter builds the missing ones from their samples when it opens the database.
 * - `signals`: one row per identity and signal, with its newest value, updated with the samples.
 *   Rows of a deleted identity go with it; the signals of the samples moved to class 12 are filled
 *   in by the same repair.
 */
export const sql = `
ALTER TABLE sample_partitions RENAME TO sample_partitions_v3;
CREATE TABLE sample_partitions (
  retention    INTEGER NOT NULL,        -- months the class keeps (0, 3, 6, 12, 36, 60, 120)
  month        INTEGER NOT NULL,        -- YYYYMM, UTC
  table_name   TEXT    NOT NULL UNIQUE, -- samples
  rollup_table TEXT    NOT NULL UNIQUE, -- their rollups
  start_us     INTEGER NOT NULL,        -- first µs of the month
  end_us       INTEGER NOT NULL,        -- first µs of the next month
  PRIMARY KEY (retention, month)
);
INSERT INTO sample_partitions (retention, month, table_name, rollup_table, start_us, end_us)
  SELECT 12, month, table_name, 'rollups_r12_' || month, start_us, end_us FROM sample_partitions_v3;
DROP TABLE sample_partitions_v3;
CREATE INDEX sample_partitions_by_time ON sample_partitions (start_us);

CREATE TABLE signals (
  identity    TEXT    NOT NULL,
  signal      TEXT    NOT NULL,
  resource    TEXT    NOT NULL, -- the resource that carries it: the alias itself, or data_in
  metadata    TEXT,             -- JSON (a config_io channel), or NULL
  created_at  INTEGER NOT NULL, -- server µs
  last_value,                   -- as stored in the samples (booleans 1/0); NULL before any sample
  last_update INTEGER,          -- reported µs of last_value
  last_insert INTEGER,          -- server µs when last_value was written
  PRIMARY KEY (identity, signal)
) WITHOUT ROWID;
CREATE INDEX signals_by_signal ON signals (signal, identity);

CREATE TRIGGER signals_of_deleted_identity AFTER DELETE ON identities BEGIN
  DELETE FROM signals WHERE identity = old.identity;
END;
`;
